package azure

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"

	"github.com/dragonflydb/dfpeer/internal/sim/azuresim"
)

// The metadata document comes as one cloud (api-version 2022-09-01) or
// as an array of clouds (2019-05-01); both give the simulator's endpoints.
func TestLoadEndpointsBothShapes(t *testing.T) {
	sim := azuresim.New(azuresim.Options{GraphPathPrefix: "/graph"})
	srv, err := sim.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for _, version := range []string{"2022-09-01", "2019-05-01"} {
		ep, err := LoadEndpoints(context.Background(), srv.Client(), srv.URL+"/metadata/endpoints?api-version="+version)
		if err != nil {
			t.Fatalf("%s: %v", version, err)
		}
		want := Endpoints{Name: "AzureCloud", Authority: srv.URL + "/", ARM: srv.URL, ARMAudience: "https://management.core.windows.net",
			Graph: srv.URL + "/graph", GraphScope: srv.URL + "/graph/.default", Custom: true}
		if ep != want {
			t.Errorf("%s:\n got %+v\nwant %+v", version, ep, want)
		}
	}
}

func TestPickCloudFromArray(t *testing.T) {
	doc := func(name, rm string) map[string]any {
		return map[string]any{"name": name, "resourceManager": rm, "microsoftGraphResourceId": "https://graph.example/",
			"authentication": map[string]any{"loginEndpoint": "https://login.example", "audiences": []string{"https://management.example/"}}}
	}
	body, _ := json.Marshal([]any{doc("AzureCloud", "https://management.azure.com/"), doc("AzureChinaCloud", "https://management.chinacloudapi.cn/")})
	c, err := pickCloud(body, "management.chinacloudapi.cn")
	if err != nil || c.Name != "AzureChinaCloud" {
		t.Errorf("by host: %+v %v", c, err)
	}
	if _, err := pickCloud(body, "metadata.example"); err == nil || !strings.Contains(err.Error(), "AzureCloud, AzureChinaCloud") {
		t.Errorf("no cloud of that host: %v", err)
	}
	if _, err := pickCloud([]byte("<html>"), "x"); err == nil {
		t.Error("HTML accepted as a metadata document")
	}
}

// Only https, or http to loopback; the login endpoint https only.
func TestEndpointSafety(t *testing.T) {
	if _, err := LoadEndpoints(context.Background(), http.DefaultClient, "http://metadata.example.com/metadata/endpoints"); err == nil || !strings.Contains(err.Error(), "only allowed for loopback") {
		t.Errorf("http metadata URL to a remote host: %v", err)
	}
	serve := func(login, rm string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			json.NewEncoder(w).Encode(map[string]any{"name": "Local", "resourceManager": rm, "microsoftGraphResourceId": rm,
				"authentication": map[string]any{"loginEndpoint": login, "audiences": []string{rm}}})
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	u := serve("http://127.0.0.1:1", "https://arm.example")
	if _, err := LoadEndpoints(context.Background(), http.DefaultClient, u); err == nil || !strings.Contains(err.Error(), "must use https") {
		t.Errorf("http login endpoint: %v", err)
	}
	u = serve("https://login.example", "http://arm.example")
	if _, err := LoadEndpoints(context.Background(), http.DefaultClient, u); err == nil || !strings.Contains(err.Error(), "resourceManager") {
		t.Errorf("http ARM to a remote host: %v", err)
	}
	u = serve("https://login.example", "http://127.0.0.1:9")
	ep, err := LoadEndpoints(context.Background(), http.DefaultClient, u)
	if err != nil || !ep.AllowHTTP {
		t.Errorf("http ARM on loopback: %+v %v", ep, err)
	}
}

func rule(name string, prio int32, allow bool, proto, src, dst, ports string) nsgRule {
	return nsgRule{Name: name, Priority: prio, Inbound: true, Allow: allow, Protocol: proto,
		Sources: strings.Split(src, ","), Dests: strings.Split(dst, ","), Ports: strings.Split(ports, ",")}
}

func TestEvaluateNSG(t *testing.T) {
	const cidr = "192.168.0.0/16"
	subnets := []string{"10.1.1.0/24"}
	ours := rule("dfpeer-x", 250, true, "Tcp", cidr, "VirtualNetwork", "6379")
	ours.Description = "dfpeer: Dragonfly Cloud connection x"
	// Priorities are unique per direction: an outbound rule's is free.
	outbound := rule("out", 298, false, "*", "*", "*", "*")
	outbound.Inbound = false
	for _, tc := range []struct {
		name      string
		custom    []nsgRule
		allowedBy string
		ours      bool
		blockedBy string
		priority  int32
	}{
		{"defaults only", nil, "AllowVnetInBound", false, "", 0},
		{"deny exactly", []nsgRule{rule("deny", 300, false, "Tcp", cidr, "*", "6379")}, "", false, "deny", 299},
		{"deny skips used priorities", []nsgRule{rule("deny", 300, false, "Tcp", cidr, "*", "6379"), rule("other", 299, true, "Udp", "*", "*", "53"),
			outbound}, "", false, "deny", 298},
		{"deny of another port", []nsgRule{rule("deny", 300, false, "Tcp", cidr, "*", "22")}, "AllowVnetInBound", false, "", 0},
		{"deny of a port range", []nsgRule{rule("deny", 300, false, "*", cidr, "*", "6000-7000")}, "", false, "deny", 299},
		{"deny of part of the CIDR", []nsgRule{rule("deny", 300, false, "Tcp", "192.168.7.0/24", "*", "6379")}, "", false, "deny", 299},
		{"deny of UDP", []nsgRule{rule("deny", 300, false, "Udp", cidr, "*", "6379")}, "AllowVnetInBound", false, "", 0},
		{"deny from the Internet", []nsgRule{rule("deny", 300, false, "Tcp", "Internet", "*", "*")}, "AllowVnetInBound", false, "", 0},
		{"deny from VirtualNetwork", []nsgRule{rule("deny", 4000, false, "*", "VirtualNetwork", "VirtualNetwork", "*")}, "", false, "deny", 3999},
		{"deny of another subnet", []nsgRule{rule("deny", 300, false, "Tcp", cidr, "10.1.9.0/24", "6379")}, "AllowVnetInBound", false, "", 0},
		{"custom allow ahead of the deny", []nsgRule{rule("allow", 200, true, "Tcp", "192.0.0.0/8", "*", "*"), rule("deny", 300, false, "Tcp", cidr, "*", "6379")}, "allow", false, "", 0},
		{"partial allow ahead of the deny", []nsgRule{rule("allow", 200, true, "Tcp", "192.168.1.0/24", "*", "*"), rule("deny", 300, false, "Tcp", cidr, "*", "6379")}, "", false, "deny", 299},
		{"our rule ahead of the deny", []nsgRule{ours, rule("deny", 300, false, "Tcp", cidr, "*", "6379")}, "dfpeer-x", true, "", 0},
		{"deny at the first priority", []nsgRule{rule("deny", 100, false, "*", "*", "*", "*")}, "", false, "deny", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := evaluate(tc.custom, defaultInbound, cidr, 6379, subnets)
			if v.AllowedBy != tc.allowedBy || v.Ours != tc.ours || v.BlockedBy != tc.blockedBy || v.Priority != tc.priority {
				t.Errorf("got %+v", v)
			}
		})
	}
}

func token(claims map[string]any) string {
	b, _ := json.Marshal(claims)
	return "eyJhbGciOiJub25lIn0." + base64.RawURLEncoding.EncodeToString(b) + ".sig"
}

func TestGraphPermissionsFromToken(t *testing.T) {
	all := graphNeeds{createApp: true, manageApp: true, dragonflySP: true}
	for _, tc := range []struct {
		name   string
		claims map[string]any
		want   int
	}{
		{"service principal without permissions", map[string]any{"idtyp": "app"}, 3},
		{"Application.ReadWrite.All", map[string]any{"idtyp": "app", "roles": []string{"Application.ReadWrite.All"}}, 0},
		{"OwnedBy cannot create another tenant's service principal", map[string]any{"idtyp": "app", "roles": []string{"Application.ReadWrite.OwnedBy"}}, 1},
		{"Application Developer role", map[string]any{"wids": []string{roleAppDeveloper}}, 1},
		{"Cloud Application Administrator role", map[string]any{"wids": []string{roleCloudAppAdmin}}, 0},
		{"a user: tenant settings decide", map[string]any{"scp": "Application.ReadWrite.All Directory.AccessAsUser.All"}, 0},
	} {
		c, err := decodeClaims(token(tc.claims))
		if err != nil {
			t.Fatal(err)
		}
		if got := missingGraph(c, all); len(got) != tc.want {
			t.Errorf("%s: missing %v, want %d", tc.name, got, tc.want)
		}
	}
	if _, err := decodeClaims("opaque"); err == nil {
		t.Error("an opaque token decoded")
	}
}

func perm(actions, notActions []string) *armauthorization.Permission {
	p := &armauthorization.Permission{}
	for _, a := range actions {
		p.Actions = append(p.Actions, to.Ptr(a))
	}
	for _, a := range notActions {
		p.NotActions = append(p.NotActions, to.Ptr(a))
	}
	return p
}

func TestAllows(t *testing.T) {
	owner := []*armauthorization.Permission{perm([]string{"*"}, nil)}
	contributor := []*armauthorization.Permission{perm([]string{"*"}, []string{"Microsoft.Authorization/*/Write", "Microsoft.Authorization/*/Delete"})}
	uaa := []*armauthorization.Permission{perm([]string{"*/read", "Microsoft.Authorization/*"}, nil)}
	reader := []*armauthorization.Permission{perm([]string{"*/read"}, nil)}
	both := append(append([]*armauthorization.Permission{}, contributor...), uaa...)
	for _, tc := range []struct {
		name   string
		perms  []*armauthorization.Permission
		action string
		want   bool
	}{
		{"Owner", owner, actionRoleAssignmentsWrite, true},
		{"Contributor", contributor, actionRoleAssignmentsWrite, false},
		{"Contributor writes rules", contributor, actionSecurityRulesWrite, true},
		{"User Access Administrator", uaa, actionRoleDefinitionsWrite, true},
		{"Reader", reader, actionRoleAssignmentsWrite, false},
		{"Reader reads", reader, "Microsoft.Network/virtualNetworks/read", true},
		{"notActions of one role do not cancel another", both, actionRoleAssignmentsWrite, true},
		{"case does not matter", owner, strings.ToUpper(actionPeer), true},
	} {
		if got := allows(tc.perms, tc.action); got != tc.want {
			t.Errorf("%s: allows(%s) = %v", tc.name, tc.action, got)
		}
	}
}

var guidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// Names dfpeer gives in Azure are the same on every run and differ
// between what they name.
func TestNameGUID(t *testing.T) {
	a, b := nameGUID("assignment", "/subscriptions/x/vnet", "p1", "r"), nameGUID("assignment", "/subscriptions/x/vnet", "p2", "r")
	if !guidRE.MatchString(a) || a == b || a != nameGUID("assignment", "/SUBSCRIPTIONS/x/vnet", "P1", "R") {
		t.Errorf("nameGUID: %s %s", a, b)
	}
}

func TestRuleNameAndPeeringName(t *testing.T) {
	if got := RuleName("prod-"); got != "dfpeer-prod" {
		t.Errorf("trailing '-': %q", got)
	}
	long := strings.Repeat("a", 63) + "-b"
	if got := RuleName(long); len(got) > 80 || strings.HasSuffix(got, "-") {
		t.Errorf("long name: %q", got)
	}
	if got := PeeringName("app-vnet"); got != "app-vnet-dfcloud-peering" {
		t.Errorf("peering name %q", got)
	}
}

// The one place the connection's app_object_id is chosen: the app
// (client) ID, as the console asks.
func TestConnectionAppID(t *testing.T) {
	app := &Application{ID: "object-id", AppID: "client-id"}
	if got := connectionAppID(app); got != "client-id" {
		t.Errorf("connectionAppID = %q", got)
	}
}
