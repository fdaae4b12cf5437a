package gcp_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/dragonflydb/dfpeer/internal/cmdtest"
	"github.com/dragonflydb/dfpeer/internal/peering"
	"github.com/dragonflydb/dfpeer/internal/sim/sandbox"
)

// customerSide is the customer project's firewall rules and the VPC
// network's peerings, as JSON: what removing must restore.
func customerSide(t *testing.T, e *cmdtest.Env) string {
	t.Helper()
	var b strings.Builder
	for _, fw := range e.SB.GCP.Firewalls(project) {
		b.WriteString(protojson.Format(fw) + "\n")
	}
	n, ok := e.SB.GCP.Network(project, vpc)
	if !ok {
		t.Fatalf("network %s is gone", vpc)
	}
	for _, pe := range n.GetPeerings() {
		b.WriteString(pe.GetName() + " -> " + pe.GetNetwork() + "\n")
	}
	return b.String()
}

// observe is Observe of the sandbox's one connection.
func observe(t *testing.T, e *cmdtest.Env) []peering.Change {
	t.Helper()
	_, obs, _, err := observed(t, e)
	if err != nil {
		t.Fatal(err)
	}
	return obs.Changes
}

func found(changes []peering.Change, kind peering.Kind, id string) (peering.Change, bool) {
	for _, c := range changes {
		if c.Kind == kind && c.ID == id && c.Action != peering.Wait {
			return c, true
		}
	}
	return peering.Change{}, false
}

// Connect, then remove every change Observe reports: the peering and the
// rule dfpeer made are gone, the customer's side is as before connect, a
// deny rule dfpeer only warned about is a failed condition, and kept, and
// removing again finds nothing and changes nothing.
func TestGCPRemoveTakesDownWhatConnectMade(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	deny := &computepb.Firewall{Name: proto.String("deny-all-egress"), Network: proto.String("global/networks/" + vpc),
		Direction: proto.String("EGRESS"), Priority: proto.Int32(500), Denied: []*computepb.Denied{{IPProtocol: proto.String("all")}},
		DestinationRanges: []string{"0.0.0.0/0"}}
	// Looks related (the Dragonfly CIDR, the port) but has another name.
	lookalike := &computepb.Firewall{Name: proto.String("allow-dragonfly"), Network: proto.String("global/networks/" + vpc),
		Allowed: []*computepb.Allowed{{IPProtocol: proto.String("tcp"), Ports: []string{"6379"}}}, SourceRanges: []string{demoCIDR}}
	for _, fw := range []*computepb.Firewall{deny, lookalike} {
		if err := e.SB.GCP.AddFirewall(project, fw); err != nil {
			t.Fatal(err)
		}
	}
	before := customerSide(t, e)
	if code := e.Run(args()...); code != 0 {
		t.Fatalf("connect: exit %d\n%s", code, e.ErrOut)
	}
	changes := observe(t, e)
	for _, id := range []string{ruleName} {
		for _, kind := range []peering.Kind{peering.KindPeering, peering.KindFirewallRule} {
			if c, ok := found(changes, kind, id); !ok || c.Found != peering.AsWanted || c.Action != peering.Unchanged {
				t.Errorf("after connect, %s %s: %+v (found %v)", kind, id, c, ok)
			}
		}
	}
	// A deny rule that blocks the traffic is a failed condition (status
	// fails it), not a resource of the connection: disconnect skips it.
	if c, ok := found(changes, peering.KindFirewallRule, "deny-all-egress"); !ok || c.Found != peering.Different || c.Action != peering.Verify ||
		!strings.Contains(c.Reason, "add an egress rule allowing TCP 6379 to "+demoCIDR) {
		t.Errorf("deny rule: %+v (found %v)", c, ok)
	}

	notes, err := removeAll(t, e)
	if err != nil {
		t.Fatalf("removing: %v", err)
	}
	// Last made first: the wait, the deny rule's warning, the rule, the
	// peering.
	if len(notes) != 4 || notes[0] != "nothing to remove" || !strings.HasPrefix(notes[1], "kept: it is named deny-all-egress") ||
		notes[2] != "removed" || notes[3] != "removed" {
		t.Errorf("want the deny rule kept, the rule and the peering removed; notes %q", notes)
	}
	if got := customerSide(t, e); got != before {
		t.Errorf("customer side after removing:\n%s\nwant as before connect:\n%s", got, before)
	}
	changes = observe(t, e)
	for _, kind := range []peering.Kind{peering.KindPeering, peering.KindFirewallRule} {
		if c, ok := found(changes, kind, ruleName); !ok || c.Found != peering.Absent || c.Action != peering.Create {
			t.Errorf("after removing, %s: %+v (found %v)", kind, c, ok)
		}
	}

	// Again: nothing left to remove, nothing written.
	e.SB.GCP.HTTP().ResetLog()
	notes, err = removeAll(t, e)
	if err != nil {
		t.Fatalf("removing again: %v", err)
	}
	if strings.Contains(strings.Join(notes, "|"), "removed") {
		t.Errorf("second removal removed something: %q", notes)
	}
	if m := cmdtest.MutatingCalls(e.SB.GCP.HTTP()); len(m) != 0 {
		t.Errorf("second removal made mutating calls: %v", m)
	}
}

// A peering to Dragonfly's network that dfpeer adopted, and a rule named
// as dfpeer names it but without dfpeer's description, are used by connect
// and classified not ours: removing keeps them.
func TestGCPRemoveKeepsWhatIsNotOurs(t *testing.T) {
	e := cmdtest.NewSandbox(t, sandbox.Options{})
	addManualPeering(t, e)
	if err := e.SB.GCP.AddFirewall(project, &computepb.Firewall{Name: proto.String(ruleName), Network: proto.String("global/networks/" + vpc),
		Allowed: []*computepb.Allowed{{IPProtocol: proto.String("tcp"), Ports: []string{"6379"}}}, SourceRanges: []string{demoCIDR},
		Description: proto.String("made by hand")}); err != nil {
		t.Fatal(err)
	}
	if code := e.Run(args()...); code != 0 {
		t.Fatalf("connect: exit %d\n%s", code, e.ErrOut)
	}
	changes := observe(t, e)
	pe, ok := found(changes, peering.KindPeering, "manual-dragonfly")
	if !ok || pe.Found != peering.NotOurs || pe.Action != peering.Adopt || !strings.Contains(pe.Reason, "dfpeer did not create it") {
		t.Errorf("adopted peering: %+v (found %v)", pe, ok)
	}
	fw, ok := found(changes, peering.KindFirewallRule, ruleName)
	if !ok || fw.Found != peering.NotOurs || !strings.Contains(fw.Reason, "is not dfpeer's") {
		t.Errorf("hand-made rule: %+v (found %v)", fw, ok)
	}
	before := customerSide(t, e)
	e.SB.GCP.HTTP().ResetLog()
	notes, err := removeAll(t, e)
	if err != nil {
		t.Fatalf("removing: %v", err)
	}
	for _, n := range notes {
		if n == "removed" {
			t.Errorf("removed something not ours: %q", notes)
		}
	}
	if got := customerSide(t, e); got != before {
		t.Errorf("customer side changed:\n%s\nwant:\n%s", got, before)
	}
	if m := cmdtest.MutatingCalls(e.SB.GCP.HTTP()); len(m) != 0 {
		t.Errorf("mutating calls: %v", m)
	}
}

// Removing the peering while another peering operation runs on the network
// waits for it, as adding does.
func TestGCPRemoveRetriesPeeringInProgress(t *testing.T) {
	d := sandbox.Delays{Provision: 10 * time.Millisecond, Activate: 10 * time.Millisecond, Delete: 10 * time.Millisecond, GCPOperation: 400 * time.Millisecond}
	e := cmdtest.NewSandbox(t, sandbox.Options{Delays: &d})
	if code := e.Run(args()...); code != 0 {
		t.Fatalf("connect: exit %d\n%s", code, e.ErrOut)
	}
	body := `{"networkPeering":{"name":"blocker","network":"projects/acme-app/global/networks/legacy-network","exchangeSubnetRoutes":true}}`
	req, _ := http.NewRequest("POST", e.SB.URL+"/compute/v1/projects/acme-app/global/networks/app-network/addPeering", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+sandbox.GCPToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("starting a blocking operation: %v %v", err, resp)
	}
	resp.Body.Close()
	e.SB.GCP.HTTP().ResetLog()
	prov, obs, st, err := observed(t, e)
	if err != nil {
		t.Fatal(err)
	}
	if c := obs.Changes[0]; c.Kind != peering.KindPeering || c.ID != ruleName {
		t.Fatalf("first change %+v, want the peering", c)
	}
	if note, err := prov.Remove(context.Background(), st, obs.Changes[0]); err != nil || note != "removed" {
		t.Fatalf("removing %s: %q, %v", obs.Changes[0].ID, note, err)
	}
	busy := 0
	for _, c := range e.SB.GCP.HTTP().Calls() {
		if c.Op == "networks.removePeering" && c.Status == 400 {
			busy++
		}
	}
	if busy == 0 {
		t.Fatalf("no removePeering was refused as busy: the test proves nothing")
	}
	if pe := peeringsBetween(t, e.SB.GCP, project, vpc, sandbox.DragonflyGCPProject, sandbox.DragonflyGCPNetwork); len(pe) != 0 {
		t.Errorf("peering to Dragonfly still there: %v", pe)
	}
}
