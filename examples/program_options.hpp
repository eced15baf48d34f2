// What the chapter programs (and the benchmark's workbook_transfer) take from the environment,
// read in this one place. The library itself reads nothing: its options are passed in, so a
// snippet copied into another program obeys no WORKBOOK_* variable.
#pragma once

#include "wbclient/http/auth.hpp"
#include "wbclient/http/credential_store.hpp"
#include "wbclient/http/http.hpp"
#include "wbclient/http/stored_credentials_auth.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <charconv>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace workbook {

/// The variable's value, or "" when it is unset.
inline std::string environment_value(const char* name) {
    const char* value = std::getenv(name);
    return value ? value : "";
}

/// WORKBOOK_REGISTRY, else the reader's registry from the seed: localhost:5000.
inline std::string default_registry() {
    const std::string value = environment_value("WORKBOOK_REGISTRY");
    return value.empty() ? "localhost:5000" : value;
}

/// WORKBOOK_UPSTREAM, else the registry that plays Docker Hub: localhost:5001.
inline std::string default_upstream() {
    const std::string value = environment_value("WORKBOOK_UPSTREAM");
    return value.empty() ? "localhost:5001" : value;
}

/// WORKBOOK_REPLICAS: the registry replicas behind the balancer, "host:port,host:port"
/// (chapter 15); none when unset.
inline std::vector<std::string> default_replicas() {
    std::vector<std::string> replicas;
    const std::string value = environment_value("WORKBOOK_REPLICAS");
    for (std::size_t start = 0; start < value.size();) {
        const std::size_t comma = std::min(value.find(',', start), value.size());
        if (comma > start) replicas.push_back(value.substr(start, comma - start));
        start = comma + 1;
    }
    return replicas;
}

/// WORKBOOK_STRANGER: a registry on the replicas' bucket with another http.secret (chapter
/// 15); "" when unset.
inline std::string default_stranger() { return environment_value("WORKBOOK_STRANGER"); }

/// Where `docker login`, `podman login` (and skopeo's, buildah's) left credentials, read as
/// those tools read them: the files of wbclient::credential_search_list from REGISTRY_AUTH_FILE,
/// XDG_RUNTIME_DIR, XDG_CONFIG_HOME, HOME and DOCKER_CONFIG, and docker-credential-<name>
/// helpers looked for in PATH's folders.
inline wbclient::CredentialStoreOptions credential_store_options() {
    wbclient::CredentialStoreOptions options;
    options.files = wbclient::credential_search_list({.registry_auth_file = environment_value("REGISTRY_AUTH_FILE"),
                                                      .xdg_runtime_dir = environment_value("XDG_RUNTIME_DIR"),
                                                      .xdg_config_home = environment_value("XDG_CONFIG_HOME"),
                                                      .home = environment_value("HOME"),
                                                      .docker_config = environment_value("DOCKER_CONFIG"),
                                                      .uid = ::getuid()});
    const std::string path = environment_value("PATH");
    for (std::size_t start = 0; start <= path.size();) {
        const std::size_t end = std::min(path.find(':', start), path.size());
        if (end > start) options.helper_directories.emplace_back(path.substr(start, end - start));
        start = end + 1;
    }
    return options;
}

/// The credential store of credential_store_options().
inline wbclient::CredentialStore credential_store() { return wbclient::CredentialStore(credential_store_options()); }

/// client_options() without logging in: for a client that must see a registry's 401 itself
/// (chapter 10 shows the challenge, a wrong password and a forged token).
inline wbclient::ClientOptions client_options_without_login() {
    wbclient::ClientOptions options;
    if (const std::string file = environment_value("WORKBOOK_TRANSCRIPT"); !file.empty())
        options.observers.push_back(wbclient::transcript_writer(file));
    if (const std::string verbose = environment_value("WORKBOOK_VERBOSE"); !verbose.empty() && verbose != "0")
        options.observers.push_back(wbclient::verbose_printer());
    if (const std::string stall = environment_value("WORKBOOK_STALL_SECONDS"); !stall.empty()) {
        long seconds = 0;
        const auto [end, error] = std::from_chars(stall.data(), stall.data() + stall.size(), seconds);
        if (error != std::errc() || end != stall.data() + stall.size() || seconds < 1 || seconds > 3600)
            throw std::invalid_argument("WORKBOOK_STALL_SECONDS must be a number of seconds, 1 to 3600");
        options.stall_timeout = std::chrono::seconds(seconds);
    }
    return options;
}

/// The options every client of a program gets: WORKBOOK_TRANSCRIPT=<file> appends one JSON
/// line per exchange (what the book and the tests read); WORKBOOK_VERBOSE=1 prints each
/// exchange the way `curl -v` does; WORKBOOK_STALL_SECONDS (1 to 3600) replaces the 30 s stall
/// timeout, so tests of stalling servers finish in seconds. Throws std::invalid_argument, one
/// line, for a stall timeout that is not such a number. A registry that answers 401 gets the
/// credentials the reader's `docker login` or `podman login` stored for it (credential_store()),
/// looked up on its first 401 only, with one line on stdout saying whose and from where.
inline wbclient::ClientOptions client_options() {
    wbclient::ClientOptions options = client_options_without_login();
    auto login = std::make_shared<wbclient::StoredCredentialsAuth>(credential_store(), options);
    login->set_narrator([](const std::string& line) { std::cout << "  [login] " << line << "\n"; });
    options.authorizer = std::move(login);
    return options;
}

/// WORKBOOK_CA_FILE, if set, as the CA file to trust; verification always on.
inline wbclient::TlsOptions tls_options() {
    return wbclient::TlsOptions{.ca_file = environment_value("WORKBOOK_CA_FILE"), .verify = true};
}

}  // namespace workbook
