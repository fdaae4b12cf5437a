package azure

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"

	"github.com/dragonflydb/dfpeer/internal/cmdutil"
)

// MetadataEnv is the Azure CLI's convention for custom and sovereign
// clouds: a URL returning the Resource Manager metadata document.
const MetadataEnv = "ARM_CLOUD_METADATA_URL"

// Public Azure, used when no metadata document is configured.
const (
	publicGraph      = "https://graph.microsoft.com"
	publicARMAud     = "https://management.azure.com"
	publicARM        = "https://management.azure.com"
	publicCloudLabel = "AzureCloud"
)

// Endpoints are where one Azure cloud lives.
type Endpoints struct {
	// Name is the cloud's name ("AzureCloud", ...), for messages.
	Name string
	// Authority is the login endpoint (https, ending in "/"); empty means
	// azidentity's own default, which honours AZURE_AUTHORITY_HOST.
	Authority string
	// ARM is the Resource Manager endpoint and ARMAudience its token
	// audience.
	ARM, ARMAudience string
	// Graph is Microsoft Graph's base URL (without /v1.0) and GraphScope
	// the scope its tokens are requested for.
	Graph, GraphScope string
	// Custom is true when the endpoints came from a metadata document:
	// the credential then must not ask the public cloud for instance
	// discovery.
	Custom bool
	// AllowHTTP is true when ARM or Graph is plain http on loopback (a
	// local simulator); azcore refuses to send tokens over http otherwise.
	AllowHTTP bool
}

// PublicEndpoints is public Azure.
func PublicEndpoints() Endpoints {
	return Endpoints{Name: publicCloudLabel, ARM: publicARM, ARMAudience: publicARMAud, Graph: publicGraph, GraphScope: publicGraph + "/.default"}
}

// cloudConfig is the azcore configuration for these endpoints; the zero
// value (public Azure, AZURE_AUTHORITY_HOST honoured) when not custom.
func (e Endpoints) cloudConfig() cloud.Configuration {
	if !e.Custom {
		return cloud.Configuration{}
	}
	return cloud.Configuration{
		ActiveDirectoryAuthorityHost: e.Authority,
		Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
			cloud.ResourceManager: {Endpoint: e.ARM, Audience: e.ARMAudience},
		},
	}
}

// metadataCloud is the part of a cloud in the metadata document dfpeer
// reads.
type metadataCloud struct {
	Name            string `json:"name"`
	ResourceManager string `json:"resourceManager"`
	Graph           string `json:"microsoftGraphResourceId"`
	Authentication  struct {
		LoginEndpoint string   `json:"loginEndpoint"`
		Audiences     []string `json:"audiences"`
	} `json:"authentication"`
}

// LoadEndpoints fetches the metadata document at rawURL and returns the
// cloud it describes. api-version 2022-09-01 answers with one cloud
// object, older versions with an array of clouds: from an array, the cloud
// whose Resource Manager is the document's own host is chosen (the host
// serves its own cloud), or the only one.
func LoadEndpoints(ctx context.Context, hc *http.Client, rawURL string) (Endpoints, error) {
	u, err := checkURL(rawURL, false)
	if err != nil {
		return Endpoints{}, cmdutil.FlagErrorf("%s: %v", MetadataEnv, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Endpoints{}, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return Endpoints{}, fmt.Errorf("reading the cloud metadata document (%s): %w", MetadataEnv, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Endpoints{}, fmt.Errorf("reading the cloud metadata document (%s): %w", MetadataEnv, err)
	}
	if resp.StatusCode != http.StatusOK {
		return Endpoints{}, fmt.Errorf("reading the cloud metadata document (%s): HTTP %d", MetadataEnv, resp.StatusCode)
	}
	c, err := pickCloud(body, u.Host)
	if err != nil {
		return Endpoints{}, fmt.Errorf("the cloud metadata document (%s): %w", MetadataEnv, err)
	}
	return c.endpoints()
}

func pickCloud(body []byte, host string) (metadataCloud, error) {
	trimmed := strings.TrimSpace(string(body))
	if strings.HasPrefix(trimmed, "{") {
		var c metadataCloud
		if err := json.Unmarshal(body, &c); err != nil {
			return c, fmt.Errorf("not a cloud metadata document: %v", err)
		}
		return c, nil
	}
	var all []metadataCloud
	if err := json.Unmarshal(body, &all); err != nil {
		return metadataCloud{}, fmt.Errorf("not a cloud metadata document: %v", err)
	}
	if len(all) == 1 {
		return all[0], nil
	}
	var names []string
	for _, c := range all {
		names = append(names, c.Name)
		if rm, err := url.Parse(c.ResourceManager); err == nil && strings.EqualFold(rm.Host, host) {
			return c, nil
		}
	}
	if len(all) == 0 {
		return metadataCloud{}, fmt.Errorf("it lists no cloud")
	}
	return metadataCloud{}, fmt.Errorf("it lists %d clouds (%s) and none has its Resource Manager at %s; use a URL that serves one cloud (api-version=2022-09-01)",
		len(all), strings.Join(names, ", "), host)
}

func (c metadataCloud) endpoints() (Endpoints, error) {
	login, err := checkURL(c.Authentication.LoginEndpoint, true)
	if err != nil {
		return Endpoints{}, fmt.Errorf("authentication.loginEndpoint: %v", err)
	}
	rm, err := checkURL(c.ResourceManager, false)
	if err != nil {
		return Endpoints{}, fmt.Errorf("resourceManager: %v", err)
	}
	graph, err := checkURL(c.Graph, false)
	if err != nil {
		return Endpoints{}, fmt.Errorf("microsoftGraphResourceId: %v", err)
	}
	aud := strings.TrimRight(rm.String(), "/")
	if len(c.Authentication.Audiences) > 0 && c.Authentication.Audiences[0] != "" {
		aud = strings.TrimRight(c.Authentication.Audiences[0], "/")
	}
	name := c.Name
	if name == "" {
		name = "custom cloud"
	}
	graphBase := strings.TrimRight(graph.String(), "/")
	return Endpoints{
		Name: name,
		// MSAL reads the first path segment after the host as the tenant:
		// the authority must be a host root.
		Authority:   strings.TrimRight(login.String(), "/") + "/",
		ARM:         strings.TrimRight(rm.String(), "/"),
		ARMAudience: aud,
		Graph:       graphBase,
		GraphScope:  graphBase + "/.default",
		Custom:      true,
		AllowHTTP:   rm.Scheme == "http" || graph.Scheme == "http",
	}, nil
}

// checkURL accepts an absolute https URL, or http to a loopback host unless
// httpsOnly (azidentity refuses a login endpoint without TLS).
func checkURL(raw string, httpsOnly bool) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("%q is not an absolute https URL", raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("user info is not allowed in %s://%s", u.Scheme, u.Host)
	}
	if u.Scheme == "http" {
		if httpsOnly {
			return nil, fmt.Errorf("%s://%s must use https: the login endpoint receives credentials (azidentity refuses http)", u.Scheme, u.Host)
		}
		if !cmdutil.IsLoopback(u.Hostname()) {
			return nil, fmt.Errorf("%s://%s: plain http is only allowed for loopback addresses; use https", u.Scheme, u.Host)
		}
	}
	return u, nil
}
