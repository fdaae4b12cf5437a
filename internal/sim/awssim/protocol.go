package awssim

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/dragonflydb/dfpeer/internal/sim/simhttp"
)

// The two Query protocols this simulator speaks. EC2 and STS share the form
// encoding but differ in everything around it: API version, XML namespace,
// response wrapping and the error envelope.
const (
	ec2Version = "2016-11-15"
	ec2NS      = "http://ec2.amazonaws.com/doc/2016-11-15/"
	stsVersion = "2011-06-15"
	stsNS      = "https://sts.amazonaws.com/doc/2011-06-15/"
)

// apiError is an error as AWS puts it on the wire.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

// clientErr is the usual EC2 client error: HTTP 400 with a code.
func clientErr(code, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, message: fmt.Sprintf(format, args...)}
}

func invalidValue(format string, args ...any) *apiError {
	return clientErr("InvalidParameterValue", format, args...)
}

func missingParam(name string) *apiError {
	return clientErr("MissingParameter", "The request must contain the parameter %s", name)
}

// errDryRun is what EC2 answers a request that would have succeeded but
// carried DryRun=true (HTTP 412, not an error in the usual sense).
var errDryRun = &apiError{status: http.StatusPreconditionFailed, code: "DryRunOperation",
	message: "Request would have succeeded, but DryRun flag is set."}

// credential is the scope part of a SigV4 Authorization header.
type credential struct {
	accessKeyID string
	date        string
	region      string
	service     string
}

// parseAuthorization reads the SigV4 Authorization header the SDK sends:
//
//	AWS4-HMAC-SHA256 Credential=AKID/20261125/us-east-1/ec2/aws4_request, SignedHeaders=…, Signature=…
//
// The signature itself is NOT verified: the simulator holds no secret keys
// (tests use static credentials whose secret is irrelevant), and verifying
// would only re-test the SDK's signer. What matters for behaviour — which
// account is calling and which region the request is for — is all in the
// credential scope.
func parseAuthorization(h string) (credential, bool) {
	const alg = "AWS4-HMAC-SHA256 "
	if !strings.HasPrefix(h, alg) {
		return credential{}, false
	}
	var cred string
	var hasSigned, hasSig bool
	for _, part := range strings.Split(h[len(alg):], ",") {
		part = strings.TrimSpace(part)
		switch {
		case strings.HasPrefix(part, "Credential="):
			cred = strings.TrimPrefix(part, "Credential=")
		case strings.HasPrefix(part, "SignedHeaders="):
			hasSigned = true
		case strings.HasPrefix(part, "Signature="):
			hasSig = true
		}
	}
	scope := strings.Split(cred, "/")
	if len(scope) != 5 || scope[4] != "aws4_request" || !hasSigned || !hasSig || scope[0] == "" {
		return credential{}, false
	}
	return credential{accessKeyID: scope[0], date: scope[1], region: scope[2], service: scope[3]}, true
}

// regionPattern accepts the shape of every AWS partition's region names
// (us-east-1, eu-central-2, us-gov-west-1, cn-north-1, …). A region outside
// it cannot have an endpoint, so a request scoped to it is refused.
var regionPattern = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$`)

// ValidRegion reports whether region has the shape of an AWS region name.
func ValidRegion(region string) bool { return regionPattern.MatchString(region) }

// serviceOf decides which protocol a request speaks: the credential scope's
// service when the request is signed, else the API version it names. It is
// used before authentication so that even an auth failure is spelled in the
// right protocol.
func serviceOf(r *http.Request, form url.Values) string {
	if c, ok := parseAuthorization(r.Header.Get("Authorization")); ok {
		if c.service == "sts" {
			return "sts"
		}
		return "ec2"
	}
	if form.Get("Version") == stsVersion {
		return "sts"
	}
	return "ec2"
}

// serve is the protocol handler the simhttp middleware wraps.
func (s *Sim) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.mu.Lock()
		reqID := s.nextRequestID()
		s.mu.Unlock()
		writeEC2Error(w, reqID, clientErr("MalformedQueryString", "The query string contains a syntax error."))
		return
	}
	form := r.Form

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.advance(now)
	reqID := s.nextRequestID()

	if serviceOf(r, form) == "sts" {
		s.serveSTS(w, r, form, reqID)
		return
	}
	s.serveEC2(w, r, form, reqID, now)
}

// authenticate maps the request's credential to an account. Errors are
// spelled per service: EC2 answers AuthFailure (401), STS
// InvalidClientTokenId (403).
func (s *Sim) authenticate(r *http.Request, service string) (account, region string, aerr *apiError) {
	h := r.Header.Get("Authorization")
	if h == "" {
		if service == "sts" {
			return "", "", &apiError{status: http.StatusForbidden, code: "MissingAuthenticationToken",
				message: "Request is missing Authentication Token"}
		}
		return "", "", &apiError{status: http.StatusUnauthorized, code: "MissingAuthenticationToken",
			message: "The request must contain valid credentials."}
	}
	c, ok := parseAuthorization(h)
	if !ok {
		status := http.StatusBadRequest
		if service == "sts" {
			status = http.StatusForbidden
		}
		return "", "", &apiError{status: status, code: "IncompleteSignature",
			message: "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters."}
	}
	if !ValidRegion(c.region) {
		return "", "", &apiError{status: http.StatusForbidden, code: "SignatureDoesNotMatch",
			message: fmt.Sprintf("Credential should be scoped to a valid region, not '%s'.", c.region)}
	}
	acct, known := s.accessKeys[c.accessKeyID]
	if !known {
		// The access key ID is not a secret, but it is still left out of
		// the message: AWS does not echo it either.
		if service == "sts" {
			return "", "", &apiError{status: http.StatusForbidden, code: "InvalidClientTokenId",
				message: "The security token included in the request is invalid."}
		}
		return "", "", &apiError{status: http.StatusUnauthorized, code: "AuthFailure",
			message: "AWS was not able to validate the provided access credentials"}
	}
	return acct, c.region, nil
}

// ec2Call is one authenticated EC2 request.
type ec2Call struct {
	account string
	region  string
	action  string
	p       params
	dryRun  bool
	now     time.Time
}

// ec2Action is one supported EC2 action: the parameters it accepts and the
// function that answers it.
type ec2Action struct {
	params paramSpec
	fn     func(s *Sim, c *ec2Call) (ec2Resp, *apiError)
}

func (s *Sim) serveEC2(w http.ResponseWriter, r *http.Request, form url.Values, reqID string, now time.Time) {
	account, region, aerr := s.authenticate(r, "ec2")
	if aerr != nil {
		writeEC2Error(w, reqID, aerr)
		return
	}
	action := form.Get("Action")
	if action == "" {
		writeEC2Error(w, reqID, clientErr("MissingAction", "The request must contain the parameter Action"))
		return
	}
	switch v := form.Get("Version"); v {
	case ec2Version:
	case "":
		writeEC2Error(w, reqID, missingParam("Version"))
		return
	default:
		writeEC2Error(w, reqID, clientErr("NoSuchVersion",
			"The requested version (%s) of service AmazonEC2 does not exist", v))
		return
	}
	a, ok := ec2Actions[action]
	if !ok {
		writeEC2Error(w, reqID, clientErr("InvalidAction", "The action %s is not valid for this web service.", action))
		return
	}
	if aerr := a.params.check(form); aerr != nil {
		writeEC2Error(w, reqID, aerr)
		return
	}
	p := params(form)
	dry, aerr := p.boolean("DryRun", "dryRun")
	if aerr != nil {
		writeEC2Error(w, reqID, aerr)
		return
	}
	resp, aerr := a.fn(s, &ec2Call{account: account, region: region, action: action, p: p, dryRun: dry, now: now})
	if aerr != nil {
		writeEC2Error(w, reqID, aerr)
		return
	}
	resp.meta().RequestID = reqID
	// The root element is named after the action, in the API's namespace.
	root := xml.StartElement{Name: xml.Name{Local: action + "Response"},
		Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: ec2NS}}}
	writeXMLAs(w, http.StatusOK, resp, root)
}

// ec2Meta is the part every EC2 response shares.
type ec2Meta struct {
	RequestID string `xml:"requestId"`
}

func (m *ec2Meta) meta() *ec2Meta { return m }

type ec2Resp interface{ meta() *ec2Meta }

// returnResp is the answer of actions that only say whether they worked.
type returnResp struct {
	ec2Meta
	Return bool `xml:"return"`
}

type ec2ErrorXML struct {
	XMLName xml.Name `xml:"Response"`
	Errors  []struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Errors>Error"`
	RequestID string `xml:"RequestID"`
}

func writeEC2Error(w http.ResponseWriter, reqID string, e *apiError) {
	var body ec2ErrorXML
	body.Errors = append(body.Errors, struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}{e.code, e.message})
	body.RequestID = reqID
	writeXML(w, e.status, body)
}

type stsErrorXML struct {
	XMLName xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ ErrorResponse"`
	Error   struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
	RequestID string `xml:"RequestId"`
}

func writeSTSError(w http.ResponseWriter, reqID string, e *apiError) {
	var body stsErrorXML
	body.Error.Type = "Sender"
	if e.status >= 500 {
		body.Error.Type = "Receiver"
	}
	body.Error.Code = e.code
	body.Error.Message = e.message
	body.RequestID = reqID
	w.Header().Set("x-amzn-RequestId", reqID)
	writeXML(w, e.status, body)
}

func writeXML(w http.ResponseWriter, status int, v any) {
	writeXMLAs(w, status, v, xml.StartElement{})
}

// writeXMLAs writes v as an XML document whose root element is root (or
// v's own element name when root is zero).
func writeXMLAs(w http.ResponseWriter, status int, v any, root xml.StartElement) {
	var buf bytes.Buffer
	enc := xml.NewEncoder(&buf)
	var err error
	if root.Name.Local != "" {
		err = enc.EncodeElement(v, root)
	} else {
		err = enc.Encode(v)
	}
	if err == nil {
		err = enc.Close()
	}
	out := buf.Bytes()
	if err != nil {
		// Only a programming error in a response type gets here.
		http.Error(w, "awssim: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(status)
	w.Write([]byte(xml.Header))
	w.Write(out)
}

// classify names a request's operation for the simhttp log: the Action, and
// whether it changes state (everything but Describe*/Get*).
func classify(r *http.Request, body []byte) (string, bool) {
	form, _ := url.ParseQuery(string(body))
	op := form.Get("Action")
	if op == "" {
		op = r.URL.Query().Get("Action")
	}
	if op == "" {
		return r.Method + " " + r.URL.Path, r.Method != http.MethodGet
	}
	mutating := !strings.HasPrefix(op, "Describe") && !strings.HasPrefix(op, "Get")
	return op, mutating
}

// writeFault spells an injected fault the way each service does: EC2
// throttles with RequestLimitExceeded on HTTP 503 and fails with
// InternalError on 500; STS throttles with Throttling on 400 and fails with
// InternalFailure on 500. All four are retried by the SDK's standard retryer.
func (s *Sim) writeFault(w http.ResponseWriter, r *http.Request, f simhttp.Fault, retryAfter time.Duration) {
	s.mu.Lock()
	reqID := s.nextRequestID()
	s.mu.Unlock()

	// The middleware restores the body before faulting; the form is read
	// only to choose the protocol.
	_ = r.ParseForm()
	sts := serviceOf(r, r.Form) == "sts"
	if retryAfter > 0 && f == simhttp.Throttle {
		w.Header().Set("Retry-After", fmt.Sprint(int((retryAfter+time.Second-1)/time.Second)))
	}
	switch {
	case f == simhttp.Throttle && sts:
		writeSTSError(w, reqID, &apiError{status: http.StatusBadRequest, code: "Throttling", message: "Rate exceeded"})
	case f == simhttp.Throttle:
		writeEC2Error(w, reqID, &apiError{status: http.StatusServiceUnavailable, code: "RequestLimitExceeded",
			message: "Request limit exceeded."})
	case sts:
		writeSTSError(w, reqID, &apiError{status: http.StatusInternalServerError, code: "InternalFailure",
			message: "An internal error occurred."})
	default:
		writeEC2Error(w, reqID, &apiError{status: http.StatusInternalServerError, code: "InternalError",
			message: "An internal error has occurred"})
	}
}
