package restproxy

import "net/http"

// routesV3 registers the v3 API (being written).
func (s *Server) routesV3(mux *http.ServeMux) {}
