package convert

import "github.com/samsa-streaming/samsa/connect"

func registryPlugins() []connect.Plugin { return nil }
