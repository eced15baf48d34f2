// The one status gate of the distribution API: an answer either has a status the endpoint
// expects, or it becomes a RegistryError that keeps everything the registry said.
#pragma once

#include "wbclient/http/http.hpp"

#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace wbclient {

/// One entry of a registry's error body {"errors":[{"code","message","detail"}]}.
struct RegistryDiagnostic {
    std::string code;     ///< e.g. "MANIFEST_UNKNOWN"
    std::string message;  ///< the registry's sentence, "" if none
};

/// A registry answered with an unexpected status. The message is one line: the request, the
/// status, every error code the registry sent with its message, and, where one was given, what
/// the refusal means.
class RegistryError : public std::runtime_error {
public:
    RegistryError(const Request& request, const Response& response, std::string_view explanation = {});
    long status() const { return status_; }
    /// The first error code of the body, e.g. "MANIFEST_UNKNOWN", or "" if none.
    const std::string& code() const;
    /// Every error the body listed, in order (a registry may send several for one request).
    const std::vector<RegistryDiagnostic>& errors() const { return errors_; }
    bool has_code(std::string_view code) const;

private:
    RegistryError(const Request& request, const Response& response, std::vector<RegistryDiagnostic> errors,
                  std::string_view explanation);
    long status_;
    std::vector<RegistryDiagnostic> errors_;
};

/// Returns `response` if its status is one of `expected`; throws RegistryError otherwise.
Response check_status(const Request& request, Response response, std::initializer_list<long> expected);

/// Performs `request` and passes the answer through check_status. With a `sink`, a successful
/// body streams into it (HttpClient::perform).
Response perform_expecting(HttpClient& http, const Request& request, std::initializer_list<long> expected,
                           const BodySink& sink = {});

/// What registry 2.8.2 means when it refuses a DELETE with this status and error code: a
/// sentence for the reader, or "" when the answer needs no more than its code. `request` is
/// the DELETE that was refused.
std::string explain_delete_refusal(const Request& request, const Response& response);

}  // namespace wbclient
