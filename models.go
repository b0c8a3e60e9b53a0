package lockchat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
)

// Model is one model a server lists (see Client.Models).
type Model struct {
	ID      string
	OwnedBy string
	// Created is when the model was made, in seconds since 1970; 0 if the server did not
	// say.
	Created int64
}

// Models lists the models the server offers: GET base URL + "/models", with the same
// headers, credentials rules, retries, errors and redaction as a chat call.
func (c *Client) Models(ctx context.Context, opts ...Option) ([]Model, error) {
	cfg := c.cfg.with(opts)
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, &contextEnded{err}
		}
		models, err := listModels(ctx, cfg)
		switch {
		case err == nil:
			return models, nil
		case ctx.Err() != nil:
			return nil, &contextEnded{ctx.Err()}
		case attempt >= cfg.maxRetries || !retryable(err):
			if attempt > 0 {
				return nil, &gaveUpError{attempts: attempt + 1, err: err}
			}
			return nil, err
		}
		delay := retryDelay(cfg, attempt, err)
		logRetry(ctx, cfg.logger, attempt+1, err, delay)
		if err := sleep(ctx, delay); err != nil {
			return nil, &contextEnded{err}
		}
	}
}

// listModels sends one GET /models and reads the list. Its errors quote no credential.
func listModels(ctx context.Context, cfg *config) (models []Model, err error) {
	prep, err := cfg.prepared()
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint(cfg.baseURL, "models"), nil)
	if err != nil {
		return nil, &requestError{text: "invalid base URL " + maskURL(cfg.baseURL)}
	}
	req.Header = prep.header.Clone()
	req.Header.Del("Content-Type")
	req.Header["Accept"] = []string{"application/json"}
	answered := req
	defer func() {
		if err == nil {
			return
		}
		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.URL == "" {
			apiErr.Method, apiErr.URL = answered.Method, maskURL(answered.URL.String())
		}
		callSecrets(cfg).scrubError(err)
	}()
	resp, err := prep.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var redirErr *redirectError
		if errors.As(err, &redirErr) {
			return nil, redirErr
		}
		return nil, newTransportError(err)
	}
	defer resp.Body.Close()
	if resp.Request != nil {
		answered = resp.Request
	}
	body, err := decodeContent(resp, resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		err := statusError(ctx, ctx, cfg, resp, body)
		var apiErr *APIError
		if errors.As(err, &apiErr) {
			apiErr.RequestID = requestID(resp.Header)
		}
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(body, limitPlusOne(cfg.maxLineSize)))
	if err != nil {
		return nil, readError(ctx, ctx, cfg, err)
	}
	if len(b) > cfg.maxLineSize {
		return nil, &LineTooLongError{Limit: cfg.maxLineSize}
	}
	b = bytes.TrimPrefix(b, bom)
	var list struct {
		Data []struct {
			ID      string `json:"id"`
			OwnedBy string `json:"owned_by"`
			Created int64  `json:"created"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &list); err != nil || list.Data == nil {
		if e := recogniseError(b); e != nil {
			e.StatusCode = resp.StatusCode
			return nil, e
		}
		return nil, &APIError{StatusCode: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"),
			Message: "the body is not a list of models", Body: excerpt(b)}
	}
	models = make([]Model, len(list.Data))
	for i, m := range list.Data {
		models[i] = Model{ID: m.ID, OwnedBy: m.OwnedBy, Created: m.Created}
	}
	return models, nil
}
