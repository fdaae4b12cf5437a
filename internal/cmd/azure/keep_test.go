package azure_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/dragonflydb/dfpeer/internal/cmdtest"
	"github.com/dragonflydb/dfpeer/internal/peering"
	"github.com/dragonflydb/dfpeer/internal/sim/sandbox"
	"github.com/dragonflydb/dfpeer/pkg/dfcloud"
)

func removal(t *testing.T, e *cmdtest.Env, extra ...string) peering.Removal {
	t.Helper()
	e.Out.Reset()
	if code := e.Run(verb("disconnect", append([]string{"--yes", "--no-input", "-o", "json"}, extra...)...)...); code != 0 {
		t.Fatalf("disconnect: exit %d\n%s", code, e.ErrOut)
	}
	var r peering.Removal
	if err := json.Unmarshal(e.Out.Bytes(), &r); err != nil {
		t.Fatalf("%v\n%s", err, e.Out)
	}
	return r
}

func keptKinds(r peering.Removal) map[peering.Kind]int {
	m := map[peering.Kind]int{}
	for _, k := range r.Kept {
		m[k.Kind]++
	}
	return m
}

// --keep-identity keeps the application, its principal, the custom role
// and the role assignments; the peering, the NSG rule and the connection
// still go.
func TestDisconnectKeepIdentity(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	if code := e.Run(args()...); code != 0 {
		t.Fatalf("connect: exit %d\n%s", code, e.ErrOut)
	}
	appID := e.SB.DF.Connections()[0].Config.Peer.Azure.AppObjectID
	r := removal(t, e, "--keep-identity")
	k := keptKinds(r)
	if r.Status != "deleted" || k[peering.KindApplication] != 1 || k[peering.KindServicePrincipal] != 2 || k[peering.KindRoleAssignment] != 2 || k[peering.KindRoleDefinition] != 1 {
		t.Fatalf("kept %v, status %s", k, r.Status)
	}
	if _, ok := e.SB.Azure.Application(appID); !ok {
		t.Error("the application was removed despite --keep-identity")
	}
}

// Another live connection on the same VNet (here made straight through the
// API, as a teammate's run would) keeps the shared identity.
func TestDisconnectKeepsIdentityAnotherConnectionUses(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	if code := e.Run(args()...); code != 0 {
		t.Fatalf("connect: exit %d\n%s", code, e.ErrOut)
	}
	first := e.SB.DF.Connections()[0]
	api, err := dfcloud.New(e.SB.Endpoints.DFCloudURL, e.SB.Endpoints.DFCloudKey)
	if err != nil {
		t.Fatal(err)
	}
	var peer dfcloud.Peer
	b, _ := json.Marshal(first.Config.Peer)
	if err := json.Unmarshal(b, &peer); err != nil {
		t.Fatal(err)
	}
	if _, err := api.CreateConnection(context.Background(), dfcloud.ConnectionConfig{Name: "teammate", NetworkID: first.Config.NetworkID, Peer: peer}); err != nil {
		t.Fatal(err)
	}
	r := removal(t, e, "--name", first.Config.Name)
	k := keptKinds(r)
	if k[peering.KindApplication] != 1 || k[peering.KindRoleAssignment] != 2 {
		t.Fatalf("kept %v: the identity teammate's connection uses was not kept\n%+v", k, r.Kept)
	}
	if _, ok := e.SB.Azure.Application(first.Config.Peer.Azure.AppObjectID); !ok {
		t.Error("the shared application was removed")
	}
}
