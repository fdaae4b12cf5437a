package aws

import (
	"context"
	"errors"
	"fmt"
	"strings"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go"

	"github.com/dragonflydb/dfpeer/internal/problem"
)

// errAWS wraps an SDK error with the step that failed.
type errAWS struct {
	step string
	err  error
}

func (e *errAWS) Error() string { return fmt.Sprintf("%s: %v", e.step, e.err) }
func (e *errAWS) Unwrap() error { return e.err }

// classify names the step and turns credential and permission failures
// into AuthErrors (exit 4).
func classify(step string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	wrapped := &errAWS{step: step, err: err}
	switch code := errorCode(err); code {
	case "AuthFailure", "UnauthorizedOperation", "AccessDenied", "AccessDeniedException", "InvalidClientTokenId",
		"SignatureDoesNotMatch", "ExpiredToken", "ExpiredTokenException", "UnrecognizedClientException", "OptInRequired":
		return &problem.AuthError{Err: wrapped}
	}
	var signErr *v4.SigningError
	if errors.As(err, &signErr) || strings.Contains(err.Error(), "get credentials:") {
		return &problem.AuthError{Err: fmt.Errorf("%s: no usable AWS credentials (configure them with 'aws configure', AWS_PROFILE/--profile, or environment variables): %w", step, err)}
	}
	return wrapped
}

// errorCode is the AWS error code of err, or "".
func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}
