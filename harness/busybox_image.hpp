// The busybox image the upstream serves in place of Docker Hub's, built from Debian's
// busybox-static by our own code.
#pragma once

#include "wbclient/distribution/registry_client.hpp"

#include <filesystem>
#include <string>

namespace harness {

/// Builds a runnable busybox image (/bin/busybox plus applet links, Cmd ["sh"], linux/amd64,
/// Docker schema2) and pushes it as `repository:tag`. Returns the manifest digest.
wbclient::Digest seed_busybox(wbclient::RegistryClient& registry,
                               const std::string& repository = "library/busybox",
                               const std::string& tag = "latest");

}  // namespace harness
