package gcp

// Permission is one IAM permission dfpeer uses on GCP and the Compute
// methods that need it.
type Permission struct {
	Name    string   `json:"permission"`
	Methods []string `json:"methods"`
	Why     string   `json:"used_for"`
	// Disconnect marks the permissions only taking a connection down
	// needs (connect never calls their methods).
	Disconnect bool `json:"-"`
	// Repair marks the permissions only a connect that repairs something
	// needs (dfpeer's rule changed since it made it).
	Repair bool `json:"-"`
}

// Permissions are the IAM permissions dfpeer uses in the customer's
// project; `dfpeer gcp permissions` prints them. Keep in step with the
// *API interfaces in client.go.
var Permissions = []Permission{
	{Name: "compute.firewalls.create", Methods: []string{"firewalls.insert"}, Why: "create the ingress rule for the Dragonfly CIDR"},
	{Name: "compute.firewalls.delete", Methods: []string{"firewalls.delete"}, Why: "disconnect: delete dfpeer's ingress rule", Disconnect: true},
	{Name: "compute.firewalls.update", Methods: []string{"firewalls.update"}, Why: "repair: put dfpeer's ingress rule back as connect made it (disabled, ports changed)", Repair: true},
	{Name: "compute.firewalls.get", Methods: []string{"firewalls.get"}, Why: "check whether the rule exists (re-runs)"},
	{Name: "compute.firewalls.list", Methods: []string{"firewalls.list"}, Why: "pre-flight: find a rule of the same name, and deny rules that would block the peering"},
	{Name: "compute.globalOperations.get", Methods: []string{"globalOperations.wait"}, Why: "wait for the peering and firewall operations"},
	{Name: "compute.networks.addPeering", Methods: []string{"networks.addPeering"}, Why: "add the peering towards Dragonfly's network"},
	{Name: "compute.networks.get", Methods: []string{"networks.get"}, Why: "read the VPC network and its peerings"},
	{Name: "compute.networks.listPeeringRoutes", Methods: []string{"networks.listPeeringRoutes"}, Why: "pre-flight: the routes the VPC imports over its other peerings, which must not overlap the Dragonfly CIDR"},
	{Name: "compute.networks.list", Methods: []string{"networks.list"}, Why: "offer the project's networks (--vpc prompt, unknown --vpc)"},
	{Name: "compute.networks.removePeering", Methods: []string{"networks.removePeering"}, Why: "disconnect: remove dfpeer's peering towards Dragonfly's network", Disconnect: true},
	{Name: "compute.networks.updatePolicy", Methods: []string{"firewalls.insert"}, Why: "a new firewall rule changes the network's policy"},
	{Name: "compute.subnetworks.list", Methods: []string{"subnetworks.aggregatedList"}, Why: "pre-flight: the subnet ranges that must not overlap the Dragonfly CIDR"},
}

// Roles are predefined roles that together grant Permissions.
var Roles = []struct {
	Name string `json:"role"`
	Why  string `json:"grants"`
}{
	{"roles/compute.networkAdmin", "networks, subnetworks, peerings, operations; firewall rules read-only"},
	{"roles/compute.securityAdmin", "creating and deleting firewall rules, which updates the network's policy"},
}
