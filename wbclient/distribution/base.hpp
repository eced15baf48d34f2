// The API's root, GET /v2/: "are you there, and do you speak v2?"
#pragma once

#include "wbclient/http/http.hpp"

namespace wbclient {

class RegistryClient;

/// GET /v2/ → 200; throws RegistryError for any other answer (401 included).
Response ping(RegistryClient& client);

/// GET /v2/, returning whatever status it answers (200, 401, ...). A transfer that fails
/// because of TLS, or a registry that refuses to speak plain HTTP, becomes a one-line
/// std::runtime_error that says what is wrong and what to do.
Response ping_checking_scheme(RegistryClient& client);

}  // namespace wbclient
