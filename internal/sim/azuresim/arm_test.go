package azuresim

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
)

var ctxb = context.Background()

func fastPoll() *runtime.PollUntilDoneOptions {
	return &runtime.PollUntilDoneOptions{Frequency: 10 * time.Millisecond}
}

func TestAuthorizationFailed(t *testing.T) {
	e := newEnv(t)
	reader := e.cred(custTenant, readerAppID, readerSecret)
	vnets := must(armnetwork.NewVirtualNetworksClient(custSub, reader, e.armOptions()))
	if _, err := vnets.Get(ctxb, custRG, custVNetName, nil); err != nil {
		t.Fatalf("Reader may read the network: %v", err)
	}
	peerings := must(armnetwork.NewVirtualNetworkPeeringsClient(custSub, reader, e.armOptions()))
	_, err := peerings.BeginCreateOrUpdate(ctxb, custRG, custVNetName, "p1", armnetwork.VirtualNetworkPeering{
		Properties: &armnetwork.VirtualNetworkPeeringPropertiesFormat{RemoteVirtualNetwork: &armnetwork.SubResource{ID: to.Ptr(e.dfV)}},
	}, nil)
	status, code, msg := errCode(t, err)
	if status != http.StatusForbidden || code != "AuthorizationFailed" {
		t.Fatalf("want 403 AuthorizationFailed, got %d %s", status, code)
	}
	wantContains(t, msg, "Microsoft.Network/virtualNetworks/virtualNetworkPeerings/write", "/virtualNetworks/"+custVNetName+"/virtualNetworkPeerings/p1", readerAppID)
}

func TestTokenChecks(t *testing.T) {
	e := newEnv(t)
	// A Graph token is refused by ARM.
	g := e.graph(e.userCred())
	g.base = e.srv.URL
	status, body := g.do(http.MethodGet, "/subscriptions/"+custSub+"?api-version=2022-12-01", nil)
	if status != http.StatusUnauthorized || !strings.Contains(body["error"].(map[string]any)["message"].(string), "wrong audience") {
		t.Errorf("Graph token on ARM: %d %v", status, body)
	}

	// A token of the customer's tenant on Dragonfly's subscription.
	resp, body := e.rawARM(e.userCred(), http.MethodGet, "/subscriptions/"+dfSub+"?api-version=2022-12-01")
	if resp.StatusCode != http.StatusUnauthorized || armCode(body) != "InvalidAuthenticationTokenTenant" {
		t.Errorf("foreign subscription: %d %v", resp.StatusCode, body)
	}
	if h := resp.Header.Get("WWW-Authenticate"); !strings.Contains(h, "/"+DefaultDragonflyTenantID+`"`) {
		t.Errorf("the challenge must name the subscription's tenant: %q", h)
	}

	// No token at all: the challenge still says which tenant to ask.
	plain, err := e.srv.Client().Get(e.srv.URL + "/subscriptions/" + custSub + "?api-version=2022-12-01")
	if err != nil {
		t.Fatal(err)
	}
	body = decode(t, plain)
	if plain.StatusCode != http.StatusUnauthorized || armCode(body) != "AuthenticationFailed" ||
		!strings.Contains(plain.Header.Get("WWW-Authenticate"), custTenant) {
		t.Errorf("no token: %d %v %q", plain.StatusCode, body, plain.Header.Get("WWW-Authenticate"))
	}
}

func armCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func TestAPIVersions(t *testing.T) {
	e := newEnv(t)
	vnet := "/subscriptions/" + custSub + "/resourceGroups/" + custRG + "/providers/Microsoft.Network/virtualNetworks/" + custVNetName
	tests := []struct {
		path     string
		status   int
		wantCode string
	}{
		{vnet + "?api-version=2025-05-01", 200, ""},
		{vnet + "?api-version=2099-01-01", 400, "NoRegisteredProviderFound"},
		{vnet, 400, "MissingApiVersionParameter"},
		{"/subscriptions?api-version=2022-12-01", 200, ""},
		{"/subscriptions?api-version=2015-01-01", 400, "InvalidApiVersionParameter"},
		{"/subscriptions/" + custSub + "/providers/Microsoft.Authorization/roleAssignments?api-version=2025-05-01", 400, "NoRegisteredProviderFound"},
		// What current SDKs send: @azure/arm-resources 2025-04-01 for
		// resource groups, older network and authorization versions.
		{"/subscriptions/" + custSub + "/resourceGroups/" + custRG + "?api-version=2025-04-01", 200, ""},
		{"/subscriptions/" + custSub + "/resourceGroups/" + custRG + "?api-version=2024-07-01", 200, ""},
		{"/subscriptions/" + custSub + "/resourceGroups/" + custRG + "?api-version=2025-04-02", 400, "NoRegisteredProviderFound"},
		{vnet + "?api-version=2018-06-01", 200, ""},
		{vnet + "?api-version=2024-10-01", 200, ""},
		{vnet + "?api-version=2025-06-01", 400, "NoRegisteredProviderFound"},
		{"/subscriptions/" + custSub + "/providers/Microsoft.Authorization/roleAssignments?api-version=2020-10-01-preview", 200, ""},
		{"/subscriptions/" + custSub + "/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-02", 400, "NoRegisteredProviderFound"},
	}
	for _, tt := range tests {
		resp, body := e.rawARM(e.userCred(), http.MethodGet, tt.path)
		if resp.StatusCode != tt.status || armCode(body) != tt.wantCode {
			t.Errorf("%s: got %d %v, want %d %s", tt.path, resp.StatusCode, body, tt.status, tt.wantCode)
		}
	}
}

func TestSubscriptions(t *testing.T) {
	e := newEnv(t)
	_, body := e.rawARM(e.userCred(), http.MethodGet, "/subscriptions?api-version=2022-12-01")
	subs := body["value"].([]any)
	if len(subs) != 1 {
		t.Fatalf("the user must see exactly its own subscription, got %v", subs)
	}
	sub := subs[0].(map[string]any)
	if sub["subscriptionId"] != custSub || sub["tenantId"] != custTenant || sub["state"] != "Enabled" {
		t.Errorf("subscription: %v", sub)
	}
	resp, body := e.rawARM(e.userCred(), http.MethodGet, "/subscriptions/"+custSub+"?api-version=2022-12-01")
	if resp.StatusCode != 200 || body["displayName"] != "customer" {
		t.Errorf("get: %d %v", resp.StatusCode, body)
	}
	resp, body = e.rawARM(e.userCred(), http.MethodGet, "/subscriptions/99999999-9999-4999-8999-999999999999?api-version=2022-12-01")
	if resp.StatusCode != 404 || armCode(body) != "SubscriptionNotFound" {
		t.Errorf("unknown subscription: %d %v", resp.StatusCode, body)
	}
}

func TestNotFoundErrors(t *testing.T) {
	e := newEnv(t)
	vnets := must(armnetwork.NewVirtualNetworksClient(custSub, e.userCred(), e.armOptions()))
	_, err := vnets.Get(ctxb, custRG, "nope", nil)
	if status, code, _ := errCode(t, err); status != 404 || code != "ResourceNotFound" {
		t.Errorf("missing vnet: %d %s", status, code)
	}
	_, err = vnets.Get(ctxb, "no-rg", custVNetName, nil)
	if status, code, _ := errCode(t, err); status != 404 || code != "ResourceGroupNotFound" {
		t.Errorf("missing rg: %d %s", status, code)
	}
	peerings := must(armnetwork.NewVirtualNetworkPeeringsClient(custSub, e.userCred(), e.armOptions()))
	_, err = peerings.Get(ctxb, custRG, custVNetName, "nope", nil)
	if status, code, _ := errCode(t, err); status != 404 || code != "NotFound" {
		t.Errorf("missing peering: %d %s", status, code)
	}
	_, err = peerings.BeginCreateOrUpdate(ctxb, custRG, "nope", "p", peeringBody(e.dfV), nil)
	if status, code, _ := errCode(t, err); status != 404 || code != "ParentResourceNotFound" {
		t.Errorf("peering of a missing network: %d %s", status, code)
	}
	pager := vnets.NewListAllPager(nil)
	page, err := pager.NextPage(ctxb)
	if err != nil || len(page.Value) != 1 || *page.Value[0].Name != custVNetName {
		t.Errorf("list all: %v %v", err, page.Value)
	}
}

func TestRoleAssignmentsAndPropagation(t *testing.T) {
	e := newEnv(t)
	workerApp := "66666666-6666-4666-8666-666666666666"
	worker := e.sim.AddServicePrincipalWithSecret(custTenant, workerApp, "worker", "worker-Secret~0123456789abcdefgh")
	workerVNets := must(armnetwork.NewVirtualNetworksClient(custSub, e.cred(custTenant, workerApp, "worker-Secret~0123456789abcdefgh"), e.armOptions()))
	if _, err := workerVNets.Get(ctxb, custRG, custVNetName, nil); err == nil {
		t.Fatal("a principal without roles must not read the network")
	}

	ras := must(armauthorization.NewRoleAssignmentsClient(custSub, e.userCred(), e.armOptions()))
	ncID := "/subscriptions/" + custSub + "/providers/Microsoft.Authorization/roleDefinitions/" + RoleNetworkContributor
	params := armauthorization.RoleAssignmentCreateParameters{Properties: &armauthorization.RoleAssignmentProperties{
		RoleDefinitionID: to.Ptr(ncID), PrincipalID: to.Ptr(worker), PrincipalType: to.Ptr(armauthorization.PrincipalTypeServicePrincipal),
	}}
	name := "0a0a0a0a-0000-4000-8000-000000000001"
	created, err := ras.Create(ctxb, e.custV, name, params, nil)
	if err != nil {
		t.Fatal(err)
	}
	if *created.Properties.Scope != e.custV || *created.Properties.PrincipalID != worker {
		t.Errorf("created: %+v", created.Properties)
	}

	// Not honoured until it has propagated.
	_, err = workerVNets.Get(ctxb, custRG, custVNetName, nil)
	if status, code, _ := errCode(t, err); status != 403 || code != "AuthorizationFailed" {
		t.Errorf("before propagation: %d %s", status, code)
	}
	e.clock.Advance(propagation)
	if _, err := workerVNets.Get(ctxb, custRG, custVNetName, nil); err != nil {
		t.Errorf("after propagation: %v", err)
	}

	// The same assignment under another name.
	_, err = ras.Create(ctxb, e.custV, "0a0a0a0a-0000-4000-8000-000000000002", params, nil)
	if status, code, _ := errCode(t, err); status != 409 || code != "RoleAssignmentExists" {
		t.Errorf("duplicate: %d %s", status, code)
	}
	// Re-sending the very same request is idempotent.
	if _, err := ras.Create(ctxb, e.custV, name, params, nil); err != nil {
		t.Errorf("same name and content again: %v", err)
	}
	// An unknown principal.
	bad := params
	bad.Properties = &armauthorization.RoleAssignmentProperties{RoleDefinitionID: to.Ptr(ncID), PrincipalID: to.Ptr("77777777-7777-4777-8777-777777777777")}
	_, err = ras.Create(ctxb, e.custV, "0a0a0a0a-0000-4000-8000-000000000003", bad, nil)
	if status, code, msg := errCode(t, err); status != 400 || code != "PrincipalNotFound" || !strings.Contains(msg, "77777777777747778777777777777777") {
		t.Errorf("unknown principal: %d %s %s", status, code, msg)
	}
	// The Reader may not assign roles.
	readerRAs := must(armauthorization.NewRoleAssignmentsClient(custSub, e.cred(custTenant, readerAppID, readerSecret), e.armOptions()))
	_, err = readerRAs.Create(ctxb, e.custV, "0a0a0a0a-0000-4000-8000-000000000004", params, nil)
	if status, code, msg := errCode(t, err); status != 403 || code != "AuthorizationFailed" || !strings.Contains(msg, "Microsoft.Authorization/roleAssignments/write") {
		t.Errorf("reader: %d %s", status, code)
	}

	// List with the (unencoded) principal filter, then delete.
	list := func() int {
		pager := ras.NewListForScopePager(e.custV, &armauthorization.RoleAssignmentsClientListForScopeOptions{Filter: to.Ptr("principalId eq '" + worker + "'")})
		n := 0
		for pager.More() {
			page, err := pager.NextPage(ctxb)
			if err != nil {
				t.Fatal(err)
			}
			n += len(page.Value)
		}
		return n
	}
	if n := list(); n != 1 {
		t.Errorf("list for the worker: %d assignments, want 1", n)
	}
	if _, err := ras.Delete(ctxb, e.custV, name, nil); err != nil {
		t.Fatal(err)
	}
	if n := list(); n != 0 {
		t.Errorf("after delete: %d assignments", n)
	}
}

func TestRoleDefinitions(t *testing.T) {
	e := newEnv(t)
	rds := must(armauthorization.NewRoleDefinitionsClient(e.userCred(), e.armOptions()))
	scope := "/subscriptions/" + custSub
	find := func(name string) []*armauthorization.RoleDefinition {
		pager := rds.NewListPager(scope, &armauthorization.RoleDefinitionsClientListOptions{Filter: to.Ptr("roleName eq '" + name + "'")})
		var out []*armauthorization.RoleDefinition
		for pager.More() {
			page, err := pager.NextPage(ctxb)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, page.Value...)
		}
		return out
	}
	if got := find("Network Contributor"); len(got) != 1 || *got[0].Name != RoleNetworkContributor || *got[0].Properties.RoleType != "BuiltInRole" {
		t.Errorf("Network Contributor: %v", got)
	}
	if got := find("dfcloud-peering-role"); len(got) != 0 {
		t.Fatalf("custom role exists before it is created: %v", got)
	}
	def := armauthorization.RoleDefinition{Properties: &armauthorization.RoleDefinitionProperties{
		RoleName:         to.Ptr("dfcloud-peering-role"),
		Description:      to.Ptr("Allows creating a peering to vnets in scope (but not from)"),
		RoleType:         to.Ptr("CustomRole"),
		Permissions:      []*armauthorization.Permission{{Actions: []*string{to.Ptr(actionPeer)}}},
		AssignableScopes: []*string{to.Ptr(scope)},
	}}
	id := "0b0b0b0b-0000-4000-8000-000000000001"
	if _, err := rds.CreateOrUpdate(ctxb, scope, id, def, nil); err != nil {
		t.Fatalf("create custom role (the SDK accepts only 201): %v", err)
	}
	if got := find("dfcloud-peering-role"); len(got) != 1 || *got[0].Name != id {
		t.Errorf("custom role not listed: %v", got)
	}
	_, err := rds.CreateOrUpdate(ctxb, scope, "0b0b0b0b-0000-4000-8000-000000000002", def, nil)
	if status, code, _ := errCode(t, err); status != 409 || code != "RoleDefinitionWithSameNameExists" {
		t.Errorf("same name: %d %s", status, code)
	}
	got, err := rds.Get(ctxb, scope, id, nil)
	if err != nil || *got.Properties.Permissions[0].Actions[0] != actionPeer {
		t.Errorf("get: %v %+v", err, got)
	}
}

func TestPermissionsAtScope(t *testing.T) {
	e := newEnv(t)
	actions := func(cred string) []string {
		c := e.userCred()
		if cred == "reader" {
			c = e.cred(custTenant, readerAppID, readerSecret)
		}
		perms := must(armauthorization.NewPermissionsClient(custSub, c, e.armOptions()))
		pager := perms.NewListForResourcePager(custRG, "Microsoft.Network", "", "virtualNetworks", custVNetName, nil)
		var out []string
		for pager.More() {
			page, err := pager.NextPage(ctxb)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range page.Value {
				for _, a := range p.Actions {
					out = append(out, *a)
				}
			}
		}
		return out
	}
	if got := actions("user"); len(got) != 1 || got[0] != "*" {
		t.Errorf("Owner: %v", got)
	}
	if got := actions("reader"); len(got) != 1 || got[0] != "*/read" {
		t.Errorf("Reader: %v", got)
	}
}

func TestNetworkSecurityGroupsAndRules(t *testing.T) {
	e := newEnv(t)
	subnets := must(armnetwork.NewSubnetsClient(custSub, e.userCred(), e.armOptions()))
	sn, err := subnets.Get(ctxb, custRG, custVNetName, "default", nil)
	if err != nil {
		t.Fatal(err)
	}
	nsgID := *sn.Properties.NetworkSecurityGroup.ID
	if !strings.HasSuffix(nsgID, "/networkSecurityGroups/cust-nsg") {
		t.Fatalf("subnet's NSG: %s", nsgID)
	}
	nsgs := must(armnetwork.NewSecurityGroupsClient(custSub, e.userCred(), e.armOptions()))
	g, err := nsgs.Get(ctxb, custRG, "cust-nsg", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Properties.DefaultSecurityRules) != 6 || len(g.Properties.Subnets) != 1 || *g.Properties.Subnets[0].ID != *sn.ID {
		t.Errorf("NSG: %d default rules, subnets %v", len(g.Properties.DefaultSecurityRules), g.Properties.Subnets)
	}

	rules := must(armnetwork.NewSecurityRulesClient(custSub, e.userCred(), e.armOptions()))
	rule := armnetwork.SecurityRule{Properties: &armnetwork.SecurityRulePropertiesFormat{
		Priority: to.Ptr[int32](200), Direction: to.Ptr(armnetwork.SecurityRuleDirectionInbound), Access: to.Ptr(armnetwork.SecurityRuleAccessAllow),
		Protocol: to.Ptr(armnetwork.SecurityRuleProtocolTCP), SourceAddressPrefix: to.Ptr("192.168.0.0/16"), SourcePortRange: to.Ptr("*"),
		DestinationAddressPrefix: to.Ptr("*"), DestinationPortRange: to.Ptr("6379"),
	}}
	poller, err := rules.BeginCreateOrUpdate(ctxb, custRG, "cust-nsg", "allow-dragonfly", rule, nil)
	if err != nil {
		t.Fatal(err)
	}
	if poller.Done() {
		t.Error("the rule must be a long-running operation")
	}
	res, err := poller.PollUntilDone(ctxb, fastPoll())
	if err != nil {
		t.Fatal(err)
	}
	if *res.Properties.ProvisioningState != armnetwork.ProvisioningStateSucceeded || *res.Properties.DestinationPortRange != "6379" {
		t.Errorf("rule: %+v", res.Properties)
	}
	if _, err := rules.Get(ctxb, custRG, "cust-nsg", "allow-dragonfly", nil); err != nil {
		t.Errorf("get rule: %v", err)
	}

	// Azure names the existing rule first.
	_, err = rules.BeginCreateOrUpdate(ctxb, custRG, "cust-nsg", "other", rule, nil)
	if status, code, msg := errCode(t, err); status != 400 || code != "SecurityRuleConflict" ||
		!strings.Contains(msg, "Security rule allow-dragonfly conflicts with rule other. Rules cannot have the same Priority and Direction.") {
		t.Errorf("same priority and direction: %d %s: %s", status, code, msg)
	}
	rule.Properties.Priority = to.Ptr[int32](5000)
	_, err = rules.BeginCreateOrUpdate(ctxb, custRG, "cust-nsg", "other", rule, nil)
	if status, code, msg := errCode(t, err); status != 400 || code != "SecurityRuleInvalidPriority" ||
		!strings.Contains(msg, "Security rule has invalid Priority. Value provided: 5000 Allowed range 100-4096.") {
		t.Errorf("priority out of range: %d %s: %s", status, code, msg)
	}
}

// TestAsyncOperationHeaders checks the raw LRO protocol: 201 with
// provisioningState Updating, an Azure-AsyncOperation URL carrying the
// api-version, Retry-After when configured, then InProgress → Succeeded.
func TestAsyncOperationHeaders(t *testing.T) {
	e := newEnv(t)
	e.sim.mu.Lock()
	e.sim.opts.PollRetryAfter = 1500 * time.Millisecond
	e.sim.opts.Delays.Operation = time.Minute
	e.sim.mu.Unlock()
	c := must(arm.NewClient("azuresimtest", "v0.0.1", e.userCred(), e.armOptions()))
	req := must(runtime.NewRequest(ctxb, http.MethodPut, e.srv.URL+"/subscriptions/"+custSub+"/resourceGroups/"+custRG+
		"/providers/Microsoft.Network/networkSecurityGroups/cust-nsg/securityRules/r1?api-version=2025-05-01"))
	if err := runtime.MarshalAsJSON(req, map[string]any{"properties": map[string]any{
		"priority": 300, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
		"sourceAddressPrefix": "*", "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "6379",
	}}); err != nil {
		t.Fatal(err)
	}
	resp := must(c.Pipeline().Do(req))
	body := decode(t, resp)
	async := resp.Header.Get("Azure-AsyncOperation")
	if resp.StatusCode != http.StatusCreated || body["properties"].(map[string]any)["provisioningState"] != "Updating" ||
		!strings.Contains(async, "/subscriptions/"+custSub+"/providers/Microsoft.Network/locations/eastus/operations/") ||
		!strings.HasSuffix(async, "?api-version=2025-05-01") || resp.Header.Get("Retry-After") != "2" {
		t.Fatalf("PUT: %d %v %v", resp.StatusCode, resp.Header, body)
	}
	poll := func() string {
		_, op := e.rawARM(e.userCred(), http.MethodGet, strings.TrimPrefix(async, e.srv.URL))
		return op["status"].(string)
	}
	if s := poll(); s != "InProgress" {
		t.Errorf("before the delay: %s", s)
	}
	e.clock.Advance(time.Minute)
	if s := poll(); s != "Succeeded" {
		t.Errorf("after the delay: %s", s)
	}
}
