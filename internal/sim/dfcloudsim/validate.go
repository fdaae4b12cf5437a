package dfcloudsim

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
)

// The service's exact validation rules are not published. These follow the
// clouds' own rules for the identifiers (so that anything accepted here could
// actually be peered) and keep names to a conservative charset.

var providers = []string{"aws", "gcp", "azure"}

var (
	// Names: letters, digits, '-', '_' and '.', starting with a letter or
	// digit, at most 63 characters.
	nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

	awsAccountRE = regexp.MustCompile(`^[0-9]{12}$`)
	awsVPCRE     = regexp.MustCompile(`^vpc-([0-9a-f]{8}|[0-9a-f]{17})$`)
	awsRegionRE  = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}$`)

	// GCP project IDs: 6-30 characters, lowercase letters, digits and
	// hyphens, starting with a letter and not ending with a hyphen.
	gcpProjectRE = regexp.MustCompile(`^[a-z][a-z0-9-]{4,28}[a-z0-9]$`)
	// GCP network names follow RFC 1035: 1-63 characters, lowercase.
	gcpNetworkRE = regexp.MustCompile(`^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$`)
	gcpRegionRE  = regexp.MustCompile(`^[a-z]+-[a-z]+[0-9]{1,2}$`)

	guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	// Azure VNet names: 2-64 characters; letters, digits, '_', '.', '-';
	// start with a letter or digit, end with a letter, digit or '_'.
	azureVNetRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}[A-Za-z0-9_]$`)
	// Azure resource groups: 1-90 characters; letters, digits, '_', '(',
	// ')', '-', '.'; not ending with '.'.
	azureRGRE     = regexp.MustCompile(`^[-\w.()]{0,89}[-\w()]$`)
	azureRegionRE = regexp.MustCompile(`^[a-z][a-z0-9]+$`)
)

// validationError is a 400 with the message as the error text.
type validationError string

func (e validationError) Error() string { return string(e) }

func invalid(format string, args ...any) error {
	return validationError(fmt.Sprintf(format, args...))
}

func validateName(field, name string) error {
	if name == "" {
		return invalid("%s is required", field)
	}
	if !nameRE.MatchString(name) {
		return invalid("invalid %s %q: use 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit", field, name)
	}
	return nil
}

func validateRegion(field, provider, region string) error {
	var ok bool
	switch provider {
	case "aws":
		ok = awsRegionRE.MatchString(region)
	case "gcp":
		ok = gcpRegionRE.MatchString(region)
	case "azure":
		ok = azureRegionRE.MatchString(region)
	}
	if !ok {
		return invalid("invalid %s %q for provider %s", field, region, provider)
	}
	return nil
}

func validateNetworkConfig(cfg networkConfig) error {
	if err := validateName("name", cfg.Name); err != nil {
		return err
	}
	if cfg.Location.Provider == "" {
		return invalid("location.provider is required")
	}
	if !slices.Contains(providers, cfg.Location.Provider) {
		return invalid("invalid location.provider %q: must be one of %s", cfg.Location.Provider, strings.Join(providers, ", "))
	}
	if cfg.Location.Region == "" {
		return invalid("location.region is required")
	}
	if err := validateRegion("location.region", cfg.Location.Provider, cfg.Location.Region); err != nil {
		return err
	}
	if cfg.CIDRBlock == "" {
		return invalid("cidr_block is required")
	}
	p, err := netip.ParsePrefix(cfg.CIDRBlock)
	if err != nil || !p.Addr().Is4() || p.Masked() != p {
		return invalid("invalid cidr_block %q: must be an IPv4 network in CIDR notation, e.g. 192.168.0.0/16", cfg.CIDRBlock)
	}
	if !p.Addr().IsPrivate() {
		return invalid("invalid cidr_block %q: must be a private (RFC 1918) range", cfg.CIDRBlock)
	}
	if p.Bits() < 16 || p.Bits() > 24 {
		return invalid("invalid cidr_block %q: prefix length must be between /16 and /24", cfg.CIDRBlock)
	}
	return nil
}

// validatePeer checks the peer against the rules of the network's cloud.
func validatePeer(p Peer, net Network) error {
	if p.AccountID == "" {
		return invalid("peer.account_id is required")
	}
	if p.VPCID == "" {
		return invalid("peer.vpc_id is required")
	}
	provider := net.Location.Provider
	if provider != "azure" && !p.Azure.empty() {
		return invalid("peer.azure is only allowed for azure networks, and network %s is on %s", net.NetworkID, provider)
	}
	switch provider {
	case "aws":
		if !awsAccountRE.MatchString(p.AccountID) {
			return invalid("invalid peer.account_id %q: an AWS account ID is 12 digits", p.AccountID)
		}
		if !awsVPCRE.MatchString(p.VPCID) {
			return invalid("invalid peer.vpc_id %q: an AWS VPC ID is \"vpc-\" followed by 8 or 17 hexadecimal digits", p.VPCID)
		}
	case "gcp":
		if !gcpProjectRE.MatchString(p.AccountID) {
			return invalid("invalid peer.account_id %q: a GCP project ID is 6-30 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen", p.AccountID)
		}
		if !gcpNetworkRE.MatchString(p.VPCID) {
			return invalid("invalid peer.vpc_id %q: a GCP network name is 1-63 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen", p.VPCID)
		}
	case "azure":
		if !guidRE.MatchString(p.AccountID) {
			return invalid("invalid peer.account_id %q: an Azure subscription ID is a GUID", p.AccountID)
		}
		if !azureVNetRE.MatchString(p.VPCID) {
			return invalid("invalid peer.vpc_id %q: an Azure VNet name is 2-64 letters, digits, '_', '.' or '-', starting with a letter or digit and ending with a letter, digit or '_'", p.VPCID)
		}
		if p.Azure.empty() {
			return invalid("peer.azure is required for azure networks (resource_group, tenant_id, app_object_id)")
		}
		if p.Azure.ResourceGroup == "" {
			return invalid("peer.azure.resource_group is required")
		}
		if !azureRGRE.MatchString(p.Azure.ResourceGroup) {
			return invalid("invalid peer.azure.resource_group %q", p.Azure.ResourceGroup)
		}
		if p.Azure.TenantID == "" {
			return invalid("peer.azure.tenant_id is required")
		}
		if !guidRE.MatchString(p.Azure.TenantID) {
			return invalid("invalid peer.azure.tenant_id %q: an Azure tenant ID is a GUID", p.Azure.TenantID)
		}
		if p.Azure.AppObjectID == "" {
			return invalid("peer.azure.app_object_id is required")
		}
		if !guidRE.MatchString(p.Azure.AppObjectID) {
			return invalid("invalid peer.azure.app_object_id %q: must be a GUID", p.Azure.AppObjectID)
		}
	}
	if p.Region != "" {
		if err := validateRegion("peer.region", provider, p.Region); err != nil {
			return err
		}
	}
	if p.CIDRBlock != "" {
		pp, err := netip.ParsePrefix(p.CIDRBlock)
		if err != nil || !pp.Addr().Is4() || pp.Masked() != pp {
			return invalid("invalid peer.cidr_block %q: must be an IPv4 network in CIDR notation", p.CIDRBlock)
		}
		// Overlapping ranges cannot be routed between peered networks;
		// every cloud refuses such a peering.
		if np, err := netip.ParsePrefix(net.CIDRBlock); err == nil && np.Overlaps(pp) {
			return invalid("peer.cidr_block %s overlaps the network's cidr_block %s", p.CIDRBlock, net.CIDRBlock)
		}
	}
	return nil
}
