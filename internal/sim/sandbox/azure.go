package sandbox

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/dragonflydb/dfpeer/internal/sim/azuresim"
)

// The Azure side of the sandbox: the customer's tenant with a subscription
// and two VNets, the signed-in service principal, and Dragonfly Cloud's
// tenant with the demo network's VNet. Every ID is fixed.
const (
	AzureTenantID       = "c0ffee00-7e4a-4c9b-8d2f-1f6d8e2a4c70"
	AzureSubscriptionID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
	// AzureStagingSubscriptionID is a second subscription of the tenant,
	// with no network: the interactive path offers both.
	AzureStagingSubscriptionID = "bbbbbbbb-cccc-4ddd-8eee-ffffffffffff"
	// AzureClientID and AzureClientSecret are the signed-in service
	// principal: Owner of the subscription, Application.ReadWrite.All in
	// the directory. Public, and only good for the simulator.
	AzureClientID     = "5a4d0f3e-7c21-4b8a-9e6f-2d1c3b4a5e60"
	AzureClientSecret = "sandbox-azure-secret"

	DemoAzureRG          = "app-rg"
	DemoAzureLocation    = "eastus"
	DemoAzureVNet        = "app-vnet"    // 10.1.0.0/16: peers cleanly
	DemoAzureOverlapVNet = "legacy-vnet" // 192.168.10.0/24 + 172.20.0.0/16: overlaps the demo network
	// DemoAzureAppNSG protects app-vnet's "app" subnet and denies TCP 6379
	// from 192.168.0.0/16 with a custom rule: dfpeer must add an allow
	// rule ahead of it. DemoAzureWebNSG ("web" subnet) has only Azure's
	// default rules, which let peered traffic in: no rule needed. The
	// "data" subnet has no NSG.
	DemoAzureAppNSG       = "app-nsg"
	DemoAzureWebNSG       = "web-nsg"
	DemoAzureDenyRule     = "deny-redis-from-peers"
	DemoAzureDenyPriority = 300

	// Dragonfly's side of the demo-azure network (networks.json's vpc).
	DragonflyAzureSubscription = "0df00000-0000-4000-8000-000000000001"
	DragonflyAzureRG           = "dfcloud-rg"
	DragonflyAzureVNet         = "dfcloud-vnet-demo"
)

// DemoAzureVNetID is app-vnet's resource ID.
var DemoAzureVNetID = "/subscriptions/" + AzureSubscriptionID + "/resourceGroups/" + DemoAzureRG + "/providers/Microsoft.Network/virtualNetworks/" + DemoAzureVNet

// DragonflyAzureVNetID is Dragonfly's VNet of the demo-azure network.
var DragonflyAzureVNetID = "/subscriptions/" + DragonflyAzureSubscription + "/resourceGroups/" + DragonflyAzureRG + "/providers/Microsoft.Network/virtualNetworks/" + DragonflyAzureVNet

func seedAzure(s *azuresim.Sim) error {
	s.AddTenant(azuresim.DefaultDragonflyTenantID)
	s.AddSubscription(azuresim.DefaultDragonflyTenantID, DragonflyAzureSubscription, "dragonfly-cloud-demo")
	s.AddResourceGroup(DragonflyAzureSubscription, DragonflyAzureRG, DemoAzureLocation)
	if _, err := s.AddVNet(DragonflyAzureSubscription, DragonflyAzureRG, azuresim.VNetSpec{Name: DragonflyAzureVNet, AddressPrefixes: []string{"192.168.0.0/16"},
		Subnets: []azuresim.SubnetSpec{{Name: "dragonfly", AddressPrefix: "192.168.0.0/20"}}}); err != nil {
		return err
	}

	s.AddTenant(AzureTenantID)
	s.AddSubscription(AzureTenantID, AzureSubscriptionID, "acme-production")
	s.AddResourceGroup(AzureSubscriptionID, DemoAzureRG, DemoAzureLocation)
	appNSG, err := s.AddNSG(AzureSubscriptionID, DemoAzureRG, DemoAzureAppNSG)
	if err != nil {
		return err
	}
	if err := s.AddSecurityRule(appNSG, DemoAzureDenyRule, azuresim.SecurityRuleSpec{
		Priority: DemoAzureDenyPriority, Direction: "Inbound", Access: "Deny", Protocol: "Tcp",
		SourceAddressPrefix: "192.168.0.0/16", SourcePortRange: "*", DestinationAddressPrefix: "*", DestinationPortRange: "6379",
		Description: "no Redis from peered networks",
	}); err != nil {
		return err
	}
	if err := s.AddSecurityRule(appNSG, "allow-https", azuresim.SecurityRuleSpec{
		Priority: 200, Direction: "Inbound", Access: "Allow", Protocol: "Tcp",
		SourceAddressPrefix: "Internet", SourcePortRange: "*", DestinationAddressPrefix: "*", DestinationPortRange: "443",
	}); err != nil {
		return err
	}
	if _, err := s.AddNSG(AzureSubscriptionID, DemoAzureRG, DemoAzureWebNSG); err != nil {
		return err
	}
	if _, err := s.AddVNet(AzureSubscriptionID, DemoAzureRG, azuresim.VNetSpec{Name: DemoAzureVNet, AddressPrefixes: []string{"10.1.0.0/16"},
		Subnets: []azuresim.SubnetSpec{
			{Name: "app", AddressPrefix: "10.1.1.0/24", NSG: DemoAzureAppNSG},
			{Name: "web", AddressPrefix: "10.1.2.0/24", NSG: DemoAzureWebNSG},
			{Name: "data", AddressPrefix: "10.1.3.0/24"},
		}}); err != nil {
		return err
	}
	if _, err := s.AddVNet(AzureSubscriptionID, DemoAzureRG, azuresim.VNetSpec{Name: DemoAzureOverlapVNet, AddressPrefixes: []string{"172.20.0.0/16", "192.168.10.0/24"},
		Subnets: []azuresim.SubnetSpec{{Name: "default", AddressPrefix: "172.20.0.0/24"}}}); err != nil {
		return err
	}
	s.AddSubscription(AzureTenantID, AzureStagingSubscriptionID, "acme-staging")
	sp := s.AddServicePrincipalWithSecret(AzureTenantID, AzureClientID, "dfpeer sandbox operator", AzureClientSecret, "Application.ReadWrite.All")
	for _, sub := range []string{AzureSubscriptionID, AzureStagingSubscriptionID} {
		if _, err := s.AssignRole("/subscriptions/"+sub, sp, "Owner"); err != nil {
			return err
		}
	}
	return nil
}

// writeAzureCA writes the simulator's CA certificate to a file of its own
// directory, for SSL_CERT_FILE in another process; Close removes it.
func (sb *Sandbox) writeAzureCA() (string, error) {
	sb.caOnce.Do(func() {
		dir, err := os.MkdirTemp("", "dfpeer-sandbox-ca")
		if err != nil {
			sb.caErr = err
			return
		}
		path := filepath.Join(dir, "azure-ca.pem")
		if err := sb.AzureServer.WriteCAFile(path); err != nil {
			os.RemoveAll(dir)
			sb.caErr = err
			return
		}
		sb.caFile = path
		sb.closers = append(sb.closers, func() { os.RemoveAll(dir) })
	})
	if sb.caErr != nil {
		return "", fmt.Errorf("writing the Azure simulator's CA: %w", sb.caErr)
	}
	return sb.caFile, nil
}
