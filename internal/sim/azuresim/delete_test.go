package azuresim

import (
	"context"
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
)

// DELETE /servicePrincipals/{id}: 204, then 404 Request_ResourceNotFound.
func TestGraphDeleteServicePrincipal(t *testing.T) {
	e := newEnv(t)
	g := e.graph(e.userCred())
	_, app := g.do(http.MethodPost, "/applications", map[string]any{"displayName": "client-app"})
	_, sp := g.do(http.MethodPost, "/servicePrincipals", map[string]any{"appId": app["appId"]})
	id := sp["id"].(string)
	if status, _ := g.do(http.MethodDelete, "/servicePrincipals/"+id, nil); status != http.StatusNoContent {
		t.Fatalf("delete: %d", status)
	}
	if status, body := g.do(http.MethodGet, "/servicePrincipals/"+id, nil); status != http.StatusNotFound || graphErrCode(body) != "Request_ResourceNotFound" {
		t.Errorf("get after delete: %d %v", status, body)
	}
	if status, body := g.do(http.MethodDelete, "/servicePrincipals/"+id, nil); status != http.StatusNotFound || graphErrCode(body) != "Request_ResourceNotFound" {
		t.Errorf("second delete: %d %v", status, body)
	}
	// The application stays: only its principal in this tenant went.
	if status, _ := g.do(http.MethodGet, "/applications/"+app["id"].(string), nil); status != http.StatusOK {
		t.Errorf("application after its principal's delete: %d", status)
	}
}

// Role Definitions - Delete: 200 with the definition, then 204.
func TestDeleteRoleDefinition(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rds, err := armauthorization.NewRoleDefinitionsClient(e.userCred(), e.armOptions())
	if err != nil {
		t.Fatal(err)
	}
	scope := "/subscriptions/" + custSub
	id := "0b0b0b0b-0000-4000-8000-000000000009"
	def := armauthorization.RoleDefinition{Properties: &armauthorization.RoleDefinitionProperties{
		RoleName: to.Ptr("to-delete"), RoleType: to.Ptr("CustomRole"),
		Permissions:      []*armauthorization.Permission{{Actions: []*string{to.Ptr(actionPeer)}}},
		AssignableScopes: []*string{to.Ptr(scope)},
	}}
	if _, err := rds.CreateOrUpdate(ctx, scope, id, def, nil); err != nil {
		t.Fatal(err)
	}
	resp, err := rds.Delete(ctx, scope, id, nil)
	if err != nil || resp.Name == nil || *resp.Name != id {
		t.Fatalf("delete: %v %+v", err, resp)
	}
	if _, err := rds.Get(ctx, scope, id, nil); err == nil {
		t.Error("the role is still there")
	}
	resp, err = rds.Delete(ctx, scope, id, nil)
	if err != nil || resp.Name != nil {
		t.Errorf("second delete, want 204: %v %+v", err, resp)
	}
}
