package awssim

import (
	"encoding/xml"
	"net/http"
	"net/url"
)

type getCallerIdentityResp struct {
	XMLName xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ GetCallerIdentityResponse"`
	Result  struct {
		Arn     string `xml:"Arn"`
		UserID  string `xml:"UserId"`
		Account string `xml:"Account"`
	} `xml:"GetCallerIdentityResult"`
	RequestID string `xml:"ResponseMetadata>RequestId"`
}

// serveSTS answers the one STS action dfpeer uses. Credentials registered
// with AddAccount behave as the account's root user, whose ARN is
// arn:aws:iam::<account>:root and whose user ID is the account ID.
func (s *Sim) serveSTS(w http.ResponseWriter, r *http.Request, form url.Values, reqID string) {
	account, _, aerr := s.authenticate(r, "sts")
	if aerr != nil {
		writeSTSError(w, reqID, aerr)
		return
	}
	action := form.Get("Action")
	if v := form.Get("Version"); v != stsVersion {
		writeSTSError(w, reqID, clientErr("InvalidAction", "Could not find operation %s for version %s", action, v))
		return
	}
	if action != "GetCallerIdentity" {
		writeSTSError(w, reqID, clientErr("InvalidAction", "Could not find operation %s for version %s", action, stsVersion))
		return
	}
	for k := range form {
		if k != "Action" && k != "Version" {
			writeSTSError(w, reqID, clientErr("InvalidParameterValue", "Unknown parameter %s for operation GetCallerIdentity", k))
			return
		}
	}
	var resp getCallerIdentityResp
	resp.Result.Arn = "arn:aws:iam::" + account + ":root"
	resp.Result.UserID = account
	resp.Result.Account = account
	resp.RequestID = reqID
	w.Header().Set("x-amzn-RequestId", reqID)
	writeXML(w, http.StatusOK, resp)
}
