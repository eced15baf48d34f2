// Where the chapter programs look when the command line names no registry.
#pragma once

#include "wbclient/http.hpp"

#include <cstdlib>
#include <string>

namespace wbclient {

/// WORKBOOK_REGISTRY, else the reader's registry from the seed: localhost:5000.
inline std::string default_registry() {
    const char* value = std::getenv("WORKBOOK_REGISTRY");
    return value && *value ? value : "localhost:5000";
}

/// WORKBOOK_UPSTREAM, else the registry that plays Docker Hub: localhost:5001.
inline std::string default_upstream() {
    const char* value = std::getenv("WORKBOOK_UPSTREAM");
    return value && *value ? value : "localhost:5001";
}

/// WORKBOOK_CA_FILE, if set, as the CA file to trust; verification always on.
inline TlsOptions tls_options_from_environment() {
    const char* ca_file = std::getenv("WORKBOOK_CA_FILE");
    return TlsOptions{.ca_file = ca_file ? ca_file : "", .verify = true};
}

}  // namespace wbclient
