// TLS for registries: trusting a private CA, and clear errors for the two classic scheme
// mistakes (https:// to a plain-HTTP registry, http:// to an HTTPS one).
#pragma once

#include "wbclient/http.hpp"
#include "wbclient/registry_client.hpp"

namespace wbclient {

/// WORKBOOK_CA_FILE, if set, as the CA file to trust; verification always on.
TlsOptions tls_options_from_environment();

/// GET /v2/, returning whatever status it answers (200, 401, ...). A transfer that fails
/// because of TLS, or a registry that refuses to speak plain HTTP, becomes a one-line
/// std::runtime_error that says what is wrong and what to do.
Response ping_checking_scheme(RegistryClient& client);

}  // namespace wbclient
