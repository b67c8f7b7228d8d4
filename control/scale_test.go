package control

import (
	"context"
	"errors"
	"testing"
)

// scalingBackend is the fake backend with pools: shop/db is one, of the
// size it was last given.
type scalingBackend struct {
	*fakeBackend
	size int
}

func (s *scalingBackend) Scale(path string, size int) (ScaleReply, error) {
	if err := s.known(path); err != nil {
		return ScaleReply{}, err
	}
	if path != "shop/db" {
		return ScaleReply{}, Errorf(CodeRefused, "%s: not a pool", path)
	}
	s.mu.Lock() // the fake's own lock
	defer s.mu.Unlock()
	old := s.size
	s.size = size
	return ScaleReply{Path: path, Old: old, Size: size}, nil
}

func TestScale(t *testing.T) {
	ctx := context.Background()
	c, _ := serve(t, &scalingBackend{fakeBackend: newFake(), size: 3})
	rep, err := c.Scale(ctx, "shop/db", 8)
	if err != nil || rep != (ScaleReply{Path: "shop/db", Old: 3, Size: 8}) {
		t.Fatalf("Scale: %+v, %v", rep, err)
	}
	var e *Error
	if _, err := c.Scale(ctx, "shop/web", 2); !errors.As(err, &e) || e.Code != CodeRefused || e.Status != 409 {
		t.Fatalf("scale of a worker: %v", err)
	}
	if _, err := c.Scale(ctx, "shop/dbb", 2); !errors.As(err, &e) || e.Code != CodeNotFound || e.Message != "no node at shop/dbb; did you mean shop/db?" {
		t.Fatalf("scale of a path that is not there: %v", err)
	}
	if _, err := c.Scale(ctx, "", 2); !errors.As(err, &e) || e.Code != CodeBadRequest {
		t.Fatalf("scale without a path: %v", err)
	}
}

func TestScaleOnABackendWithoutPools(t *testing.T) {
	c, _ := serve(t, newFake())
	var e *Error
	if _, err := c.Scale(context.Background(), "shop/db", 2); !errors.As(err, &e) || e.Code != CodeRefused {
		t.Fatalf("scale on a backend that is not a Scaler: %v", err)
	}
}
