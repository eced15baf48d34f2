// Three registries that need more than a plain GET: one behind htpasswd (Basic), one behind
// a Bearer token server, one serving HTTPS with a CA of our own. Chapter 10's book run uses them.
#pragma once

#include "registry_instance.hpp"
#include "tls_material.hpp"
#include "token_server.hpp"

#include <filesystem>
#include <map>
#include <memory>
#include <string>

namespace harness {

struct ProtectedRegistries {
    std::string user;
    std::string password;
    TlsMaterial tls_material;
    std::unique_ptr<TokenServer> tokens;
    std::unique_ptr<RegistryInstance> basic;
    std::unique_ptr<RegistryInstance> token;
    std::unique_ptr<RegistryInstance> tls;
    /// A containers auth.json holding the user's credentials for all three, as `podman login`
    /// to each would leave it: what every chapter program finds through REGISTRY_AUTH_FILE.
    std::filesystem::path auth_file;

    /// What chapter 10's program reads: WORKBOOK_AUTH_REGISTRY, WORKBOOK_TOKEN_REGISTRY,
    /// WORKBOOK_TLS_REGISTRY (https://), WORKBOOK_CA_FILE, and REGISTRY_AUTH_FILE (auth_file).
    std::map<std::string, std::string> environment() const;
};

/// Starts all three under `workdir` on the engine WORKBOOK_ENGINE names. The user may pull and
/// push everywhere; the password is made fresh and random, so no recording can show a real one.
/// The auth and TLS files live inside each registry's storage folder, where both engines can
/// read them (compose mounts only that folder); the registry ignores what is not its data.
ProtectedRegistries start_protected_registries(const std::filesystem::path& workdir);
/// The same on the engine given.
ProtectedRegistries start_protected_registries(const std::filesystem::path& workdir,
                                               const std::string& engine);

}  // namespace harness
