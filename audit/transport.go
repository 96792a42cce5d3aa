package audit

import (
	"net/http"
	"sync/atomic"
)

// counter counts the requests that go through a client's transport.
type counter struct{ n atomic.Int64 }

// wrap returns rt with every round trip counted; it is a rest.Config WrapTransport.
func (c *counter) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		c.n.Add(1)
		return rt.RoundTrip(req)
	})
}

// Count returns the number of requests made so far.
func (c *counter) Count() int { return int(c.n.Load()) }

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
