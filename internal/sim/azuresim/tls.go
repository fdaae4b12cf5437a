package azuresim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"time"
)

// TLS for the simulator: azidentity refuses an authority host that is not
// https, and azcore refuses to send bearer tokens over plain http.

// TLSServer is a loopback HTTPS server with its own certificate authority.
type TLSServer struct {
	// URL is the base URL, https://127.0.0.1:PORT (no trailing slash).
	URL string
	// CAPEM is the PEM-encoded CA certificate that signed the server's
	// certificate: write it to a file for SSL_CERT_FILE, or use CertPool
	// or Transport.
	CAPEM []byte

	srv  *httptest.Server
	pool *x509.CertPool
}

// NewTLS starts serving handler over TLS (HTTP/2 enabled) on 127.0.0.1,
// with a fresh CA and a leaf certificate for 127.0.0.1, ::1 and localhost.
//
// HTTP/2 matters: armauthorization sends $filter values unencoded (with
// spaces), which an HTTP/1.1 request line cannot carry but an HTTP/2 :path
// can. Clients built from Transport, or Go's default transport, negotiate
// HTTP/2; a hand-made http.Transport needs ForceAttemptHTTP2.
func NewTLS(handler http.Handler) (*TLSServer, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "azuresim test CA", Organization: []string{"dfpeer simulator"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(7 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(7 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, &leafKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	pool := x509.NewCertPool()
	pool.AddCert(caCert)

	srv := httptest.NewUnstartedServer(handler)
	srv.EnableHTTP2 = true
	srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{leafDER, caDER}, PrivateKey: leafKey}},
		MinVersion:   tls.VersionTLS12,
	}
	srv.StartTLS()
	return &TLSServer{URL: srv.URL, CAPEM: caPEM, srv: srv, pool: pool}, nil
}

// CertPool trusts the simulator's CA (and nothing else).
func (t *TLSServer) CertPool() *x509.CertPool { return t.pool }

// Transport is a clone of http.DefaultTransport that trusts the simulator's
// CA and speaks HTTP/2.
func (t *TLSServer) Transport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: t.pool, MinVersion: tls.VersionTLS12}
	tr.ForceAttemptHTTP2 = true
	return tr
}

// Client is an HTTP client over Transport; it satisfies azcore's
// policy.Transporter.
func (t *TLSServer) Client() *http.Client { return &http.Client{Transport: t.Transport()} }

// WriteCAFile writes CAPEM to path (for SSL_CERT_FILE).
func (t *TLSServer) WriteCAFile(path string) error {
	if err := os.WriteFile(path, t.CAPEM, 0o644); err != nil {
		return fmt.Errorf("writing the simulator's CA: %w", err)
	}
	return nil
}

// Close stops the server.
func (t *TLSServer) Close() { t.srv.Close() }
