package lockchat

import (
	"context"
	"encoding/json"
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
// headers, credentials rules, retries, failover (see WithEndpoints), errors and
// redaction as a chat call. With WithEndpoints the list is the first endpoint's that
// answers.
func (c *Client) Models(ctx context.Context, opts ...Option) ([]Model, error) {
	cfg := c.cfg.with(opts)
	var models []Model
	err := c.serve(ctx, cfg, "", nil, func(t *callEndpoint, attempts *int) (int, error) {
		*attempts++
		var err error
		if models, err = listModels(ctx, t.cfg); err != nil {
			return 0, err
		}
		return 1, nil // the list is the output: an empty one is an answer
	})
	return models, err
}

// listModels sends one GET /models and reads the list. Its errors quote no credential.
func listModels(ctx context.Context, cfg *config) (models []Model, err error) {
	x := exchange{ctx: ctx, cfg: cfg}
	if err := x.start(http.MethodGet, "models", "application/json", nil); err != nil {
		return nil, err
	}
	defer x.stop()
	defer func() { err = x.finish(err) }()
	if err := x.send(); err != nil {
		return nil, err
	}
	body, err := x.body()
	if err != nil {
		return nil, err
	}
	if x.resp.StatusCode < 200 || x.resp.StatusCode > 299 {
		return nil, x.statusError(body)
	}
	b, err := readLimited(body, cfg.maxLineSize)
	if err != nil {
		return nil, err
	}
	resp := x.resp
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
