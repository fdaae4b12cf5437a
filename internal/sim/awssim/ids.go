package awssim

import (
	"fmt"
	"math/rand"
	"regexp"
)

// idGen mints resource IDs in AWS's long form (prefix + 17 hex digits) from
// a generator seeded per Sim, so that the same sequence of calls yields the
// same IDs and tests can compare whole snapshots.
type idGen struct {
	rng  *rand.Rand
	used map[string]bool
}

func newIDGen(seed int64) *idGen {
	return &idGen{rng: rand.New(rand.NewSource(seed)), used: map[string]bool{}}
}

const hexDigits = "0123456789abcdef"

func (g *idGen) next(prefix string) string {
	for {
		b := make([]byte, 0, len(prefix)+18)
		b = append(b, prefix...)
		b = append(b, '-')
		for i := 0; i < 17; i++ {
			b = append(b, hexDigits[g.rng.Intn(16)])
		}
		if id := string(b); !g.used[id] {
			g.used[id] = true
			return id
		}
	}
}

// reserve records an ID chosen by the caller; false if it is taken.
func (g *idGen) reserve(id string) bool {
	if g.used[id] {
		return false
	}
	g.used[id] = true
	return true
}

// idKind is one resource's ID contract: its prefix and the two codes EC2
// refuses a bad ID with. The codes are spelled out rather than derived
// because AWS's own spelling is not derivable: InvalidVpcID.Malformed but
// InvalidGroupId.Malformed, InvalidRouteTableID.NotFound but
// InvalidRouteTableId.Malformed (EC2 API reference, "Error codes").
type idKind struct {
	prefix      string
	malformed   string
	notFoundErr string
	notFoundMsg string // one %s for the ID
	shape       *regexp.Regexp
}

func newIDKind(prefix, malformed, notFound, notFoundMsg string) idKind {
	return idKind{
		prefix: prefix, malformed: malformed, notFoundErr: notFound, notFoundMsg: notFoundMsg,
		// EC2 still accepts the short 8-digit form it issued before long IDs.
		shape: regexp.MustCompile(`^` + prefix + `-([0-9a-f]{8}|[0-9a-f]{17})$`),
	}
}

var (
	vpcKind = newIDKind("vpc", "InvalidVpcID.Malformed",
		"InvalidVpcID.NotFound", "The vpc ID '%s' does not exist")
	subnetKind = newIDKind("subnet", "InvalidSubnetID.Malformed",
		"InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist")
	rtbKind = newIDKind("rtb", "InvalidRouteTableId.Malformed",
		"InvalidRouteTableID.NotFound", "The routeTable ID '%s' does not exist")
	sgKind = newIDKind("sg", "InvalidGroupId.Malformed",
		"InvalidGroup.NotFound", "The security group '%s' does not exist")
	pcxKind = newIDKind("pcx", "InvalidVpcPeeringConnectionId.Malformed",
		"InvalidVpcPeeringConnectionID.NotFound", "The vpcPeeringConnection ID '%s' does not exist")
	sgrKind = newIDKind("sgr", "InvalidSecurityGroupRuleId.Malformed",
		"InvalidSecurityGroupRuleId.NotFound", "The security group rule ID '%s' does not exist")
)

func (k idKind) wellFormed(id string) bool { return k.shape.MatchString(id) }

// checkShape refuses an ID that is not one, with the wording real EC2 uses
// on the wire: Invalid id: "foo" (expecting "vpc-...").
func (k idKind) checkShape(id string) *apiError {
	if k.wellFormed(id) {
		return nil
	}
	return clientErr(k.malformed, "Invalid id: %q (expecting %q)", id, k.prefix+"-...")
}

func (k idKind) notFound(id string) *apiError {
	return clientErr(k.notFoundErr, k.notFoundMsg, id)
}

// requestID makes an AWS-looking request ID from a counter. It does not use
// the ID generator, so answering a read never shifts the IDs later writes get.
func requestID(n uint64) string {
	return fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", uint32(n>>16), uint16(n), 0, 0, n)
}
