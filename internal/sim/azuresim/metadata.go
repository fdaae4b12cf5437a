package azuresim

import (
	"net/http"
)

// The cloud metadata document, GET /metadata/endpoints?api-version=…, which
// the Azure CLI (ARM_CLOUD_METADATA_URL, `az cloud register
// --endpoint-resource-manager`) and HashiCorp's go-azure-sdk read to learn
// a cloud's endpoints. api-version 2022-09-01 (and later) returns the one
// cloud the endpoint serves as an object; older versions (2019-05-01, what
// ARM_CLOUD_METADATA_URL conventionally names) return an array of clouds.

func (s *Sim) handleMetadata(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query().Get("api-version")
	if v == "" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{
			"code": "MissingApiVersionParameter", "message": "The api-version query parameter (?api-version=) is required for all requests.",
		}})
		return
	}
	doc := s.cloudDocument("https://" + r.Host)
	if v >= "2022-09-01" {
		writeJSON(w, http.StatusOK, doc)
		return
	}
	writeJSON(w, http.StatusOK, []any{doc})
}

// cloudDocument describes the simulated cloud: everything points at base.
// The ARM audiences stay the public ones (they are only identifiers and
// the simulator accepts them); microsoftGraphResourceId is Graph's base
// URL, which the Azure CLI uses both as the endpoint and the token resource.
func (s *Sim) cloudDocument(base string) map[string]any {
	graph := base + s.opts.GraphPathPrefix + "/"
	return map[string]any{
		"portal": base,
		"authentication": map[string]any{
			"loginEndpoint":    base,
			"audiences":        []string{"https://management.core.windows.net/", "https://management.azure.com/"},
			"tenant":           "common",
			"identityProvider": "AAD",
		},
		"media":                                 base + "/",
		"graphAudience":                         "https://graph.windows.net/",
		"graph":                                 "https://graph.windows.net/",
		"name":                                  s.opts.CloudName,
		"batch":                                 "https://batch.core.windows.net/",
		"resourceManager":                       base + "/",
		"vmImageAliasDoc":                       "https://raw.githubusercontent.com/Azure/azure-rest-api-specs/master/arm-compute/quickstart-templates/aliases.json",
		"activeDirectoryDataLake":               "https://datalake.azure.net/",
		"sqlManagement":                         "https://management.core.windows.net:8443/",
		"microsoftGraphResourceId":              graph,
		"appInsightsResourceId":                 "https://api.applicationinsights.io",
		"appInsightsTelemetryChannelResourceId": "https://dc.applicationinsights.azure.com/v2/track",
		"attestationResourceId":                 "https://attest.azure.net",
		"synapseAnalyticsResourceId":            "https://dev.azuresynapse.net",
		"logAnalyticsResourceId":                "https://api.loganalytics.io",
		"ossrDbmsResourceId":                    "https://ossrdbms-aad.database.windows.net",
		"suffixes": map[string]any{
			"azureDataLakeStoreFileSystem":        "azuredatalakestore.net",
			"acrLoginServer":                      "azurecr.io",
			"sqlServerHostname":                   "database.windows.net",
			"azureDataLakeAnalyticsCatalogAndJob": "azuredatalakeanalytics.net",
			"keyVaultDns":                         "vault.azure.net",
			"storage":                             "core.windows.net",
			"azureFrontDoorEndpointSuffix":        "azurefd.net",
			"storageSyncEndpointSuffix":           "afs.azure.net",
			"mhsmDns":                             "managedhsm.azure.net",
			"mysqlServerEndpoint":                 "mysql.database.azure.com",
			"postgresqlServerEndpoint":            "postgres.database.azure.com",
			"mariadbServerEndpoint":               "mariadb.database.azure.com",
			"synapseAnalytics":                    "dev.azuresynapse.net",
			"attestationEndpoint":                 "attest.azure.net",
		},
	}
}
