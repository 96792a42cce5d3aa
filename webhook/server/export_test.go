package server

import "net"

// WrapListener replaces the webhook listener of s, before Run, with wrap of it.
func WrapListener(s *Server, wrap func(net.Listener) net.Listener) { s.ln = wrap(s.ln) }
