package azuresim

import (
	"crypto/sha256"
	"time"
)

// tenant is a Microsoft Entra directory.
type tenant struct {
	id          string
	displayName string
}

// application is an app registration; it lives in its home tenant and owns
// the password credentials. Its service principals (one per tenant it is
// used in) are separate objects.
type application struct {
	objectID       string
	appID          string
	tenantID       string
	displayName    string
	signInAudience string // AzureADMyOrg | AzureADMultipleOrgs
	created        time.Time
	passwords      []*passwordCredential
	owners         []string // service principal object IDs (home tenant)
}

func (a *application) multiTenant() bool {
	return a.signInAudience == "AzureADMultipleOrgs" || a.signInAudience == "AzureADandPersonalMicrosoftAccount"
}

// passwordCredential is a client secret. The secret itself is never
// stored: only a hash to check it and Graph's three-character hint.
type passwordCredential struct {
	keyID       string
	displayName string
	hint        string
	hash        [32]byte
	start, end  time.Time
	// usableFrom is when the token endpoint starts accepting the secret
	// (creation + CredentialPropagation).
	usableFrom time.Time
}

func hashSecret(secret string) [32]byte { return sha256.Sum256([]byte(secret)) }

// servicePrincipal is an application's identity in one tenant; RBAC role
// assignments and Graph permissions are granted to it.
type servicePrincipal struct {
	objectID    string
	appID       string
	tenantID    string
	displayName string
	created     time.Time
	// graphRoles are Microsoft Graph application permissions granted to
	// it in its tenant (e.g. Application.ReadWrite.All); they travel in
	// the token's roles claim.
	graphRoles []string
	// directoryRoles are Entra directory role template IDs; they travel
	// in the token's wids claim.
	directoryRoles []string
}

type subscription struct {
	id       string
	tenantID string
	name     string
}

type resourceGroup struct {
	subID    string
	name     string
	location string
}

type vnet struct {
	subID, rg, name, location string
	guid                      string
	prefixes                  []string
	hasGateway                bool
	subnets                   []*subnet
	peerings                  []*peering
}

func (v *vnet) id() string {
	return "/subscriptions/" + v.subID + "/resourceGroups/" + v.rg + "/providers/Microsoft.Network/virtualNetworks/" + v.name
}

// GatewaySubnet is the name Azure requires for the subnet of a VNet's
// virtual network gateway.
const GatewaySubnet = "GatewaySubnet"

func (v *vnet) gatewaySubnet() *subnet {
	for _, sn := range v.subnets {
		if eq(sn.name, GatewaySubnet) {
			return sn
		}
	}
	return nil
}

// gatewayID is the VNet's virtual network gateway, "" when it has none.
func (v *vnet) gatewayID() string {
	if !v.hasGateway {
		return ""
	}
	return "/subscriptions/" + v.subID + "/resourceGroups/" + v.rg + "/providers/Microsoft.Network/virtualNetworkGateways/" + v.name + "-gw"
}

type subnet struct {
	name         string
	prefix       string
	nsgID        string // network security group resource ID, or ""
	routeTableID string // route table resource ID, or ""
}

// peering is one side of a virtual network peering.
type peering struct {
	name                      string
	guid                      string
	remoteID                  string // remote virtual network resource ID as stored
	remoteSnapshot            []string
	allowVirtualNetworkAccess bool
	allowForwardedTraffic     bool
	allowGatewayTransit       bool
	useRemoteGateways         bool
	state                     string // Initiated | Connected | Disconnected
	provisioning              string // Updating | Succeeded | Deleting | Failed
	etag                      int
}

type nsg struct {
	subID, rg, name, location string
	guid                      string
	rules                     []*securityRule
}

func (n *nsg) id() string {
	return "/subscriptions/" + n.subID + "/resourceGroups/" + n.rg + "/providers/Microsoft.Network/networkSecurityGroups/" + n.name
}

type securityRule struct {
	name         string
	props        ruleProperties
	provisioning string
	etag         int
}

// ruleProperties is the writable part of a security rule, as the SDK
// serialises it.
type ruleProperties struct {
	Description                string   `json:"description,omitempty"`
	Protocol                   string   `json:"protocol"`
	SourcePortRange            string   `json:"sourcePortRange,omitempty"`
	DestinationPortRange       string   `json:"destinationPortRange,omitempty"`
	SourceAddressPrefix        string   `json:"sourceAddressPrefix,omitempty"`
	DestinationAddressPrefix   string   `json:"destinationAddressPrefix,omitempty"`
	SourcePortRanges           []string `json:"sourcePortRanges"`
	DestinationPortRanges      []string `json:"destinationPortRanges"`
	SourceAddressPrefixes      []string `json:"sourceAddressPrefixes"`
	DestinationAddressPrefixes []string `json:"destinationAddressPrefixes"`
	Access                     string   `json:"access"`
	Priority                   int      `json:"priority"`
	Direction                  string   `json:"direction"`
}

type roleDefinition struct {
	guid             string
	tenantID         string // "" for built-in roles
	name             string
	description      string
	builtIn          bool
	actions          []string
	notActions       []string
	assignableScopes []string
	created          time.Time
}

type roleAssignment struct {
	name          string // GUID
	scope         string
	roleDefGUID   string
	principalID   string
	principalType string
	tenantID      string
	description   string
	created       time.Time
	// effective is when RBAC starts honouring the assignment.
	effective time.Time
}

// operation is an Azure-AsyncOperation tracked long-running operation.
type operation struct {
	id       string
	subID    string
	location string
	doneAt   time.Time
	status   string // InProgress | Succeeded | Failed
	complete func()
}

// cloudPeering is Dragonfly's half of a peering created through
// simcloud.Cloud.CreatePeering.
type cloudPeering struct {
	connectionID string
	vnetID       string // Dragonfly's virtual network
	name         string
	err          string // last creation error, if it failed
}
