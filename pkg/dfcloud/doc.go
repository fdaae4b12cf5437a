// Package dfcloud is a client for the Dragonfly Cloud API: private networks
// (/v1/networks) and the peering connections that join them to a customer's
// VPC (/v1/connections).
//
// Create a client with the API key from the Dragonfly Cloud console (the
// DFCLOUD_API_KEY variable, by convention):
//
//	c, err := dfcloud.New(dfcloud.DefaultBaseURL, os.Getenv("DFCLOUD_API_KEY"))
//	conn, err := c.CreateConnection(ctx, dfcloud.ConnectionConfig{...})
//	conn, err = c.WaitConnection(ctx, conn.ConnectionID,
//		dfcloud.StatusIn(dfcloud.ConnectionInactive), dfcloud.WaitOptions{})
//
// Errors: a 404 matches ErrNotFound (errors.Is, or IsNotFound); 401 and 403
// are *AuthError; any other non-2xx answer is *APIError carrying the
// server's message. The API key never appears in an error or in the
// client's String output.
//
// Retries: requests that are safe to repeat (GET, DELETE) are retried with
// exponential backoff and full jitter on 429, 5xx and transport errors.
// POST and PUT are retried only when the request certainly did not reach
// the handler (a 429, or a failure to connect), so that a create is never
// sent twice. Retry-After is honoured, up to 30 s.
package dfcloud
