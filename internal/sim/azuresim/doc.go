// Package azuresim is an HTTPS simulator of the parts of Azure that dfpeer
// drives through the real Azure SDK for Go: the cloud metadata document, the
// Microsoft identity platform token endpoint (client credentials with a
// secret), a slice of Microsoft Graph v1.0 (applications, password
// credentials, service principals) and Azure Resource Manager
// (subscriptions, virtual networks, subnets, peerings, network security
// groups and rules, role definitions and assignments, permissions).
//
// It enforces what Azure enforces: tokens are bound to a tenant, a principal
// and an audience; RBAC decides what a principal may do on a scope
// (inherited from subscription to resource group to resource); role
// assignments and new client secrets only take effect after a propagation
// delay; a peering into another tenant's network needs an auxiliary token
// for that tenant; peerings and security rules are long-running operations
// polled through Azure-AsyncOperation; a network may not be peered with two
// networks whose address spaces overlap (VnetAddressSpacesOverlap,
// VnetAddressSpaceOverlapsWithAlreadyPeeredVnet). Errors use the real codes, statuses
// and envelopes. It also implements simcloud.Cloud, as Dragonfly Cloud's
// backend acting in Azure.
//
// Everything is served by one loopback TLS server (azidentity refuses plain
// http). Pointing the SDK at it:
//
//	sim := azuresim.New(azuresim.Options{Delays: azuresim.Delays{Operation: 20 * time.Millisecond}})
//	srv, _ := sim.Start()                  // or NewTLS(sim.Handler()); srv.CAPEM for SSL_CERT_FILE
//	cfg := cloud.Configuration{
//		ActiveDirectoryAuthorityHost: srv.URL + "/",
//		Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
//			cloud.ResourceManager: {Endpoint: srv.URL, Audience: "https://management.azure.com"},
//		},
//	}
//	opts := policy.ClientOptions{Cloud: cfg, Transport: srv.Client()}
//	cred, _ := azidentity.NewClientSecretCredential(tenant, appID, secret, &azidentity.ClientSecretCredentialOptions{
//		ClientOptions: opts, DisableInstanceDiscovery: true, AdditionallyAllowedTenants: []string{otherTenant}})
//	peerings, _ := armnetwork.NewVirtualNetworkPeeringsClient(sub, cred,
//		&arm.ClientOptions{ClientOptions: opts, AuxiliaryTenants: []string{otherTenant}})
//	// Graph: runtime.NewPipeline with runtime.NewBearerTokenPolicy(cred,
//	// []string{"https://graph.microsoft.com/.default"}, nil) against sim.GraphURL(srv.URL).
//
// Accepted audiences: the public ARM ones (https://management.azure.com,
// https://management.core.windows.net/) and Graph's
// (https://graph.microsoft.com), plus the simulator's own Graph URL, which
// the metadata document publishes as microsoftGraphResourceId.
package azuresim
