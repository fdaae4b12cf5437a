package peering

import (
	"fmt"
	"net/netip"
)

// Overlap reports whether two CIDR blocks share any address. Peering needs
// disjoint ranges on both sides: routing cannot tell them apart otherwise.
func Overlap(a, b string) (bool, error) {
	pa, err := netip.ParsePrefix(a)
	if err != nil {
		return false, fmt.Errorf("invalid CIDR %q: %w", a, err)
	}
	pb, err := netip.ParsePrefix(b)
	if err != nil {
		return false, fmt.Errorf("invalid CIDR %q: %w", b, err)
	}
	return pa.Masked().Overlaps(pb.Masked()), nil
}

// FirstOverlap returns the first of blocks that overlaps cidr, or "".
func FirstOverlap(cidr string, blocks []string) (string, error) {
	for _, b := range blocks {
		ok, err := Overlap(cidr, b)
		if err != nil {
			return "", err
		}
		if ok {
			return b, nil
		}
	}
	return "", nil
}

// RuleDescription is how dfpeer labels the firewall rules it creates, so a
// person reading a security group knows where a rule came from.
func RuleDescription(connectionName string) string {
	return "dfpeer: Dragonfly Cloud connection " + connectionName
}
