#include "wbclient/distribution/registry_error.hpp"

#include "wbclient/model/digest.hpp"
#include "wbclient/model/text.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace wbclient {
namespace {

std::string string_field(const nlohmann::json& object, const char* name) {
    const auto field = object.find(name);
    return field != object.end() && field->is_string() ? field->get<std::string>() : "";
}

// Registries explain errors as {"errors":[{"code","message","detail"}]}.
std::vector<RegistryDiagnostic> diagnostics_of(const Response& response) {
    std::vector<RegistryDiagnostic> errors;
    const auto json = nlohmann::json::parse(response.body, nullptr, false);
    if (!json.is_object() || !json.contains("errors") || !json["errors"].is_array()) return errors;
    for (const auto& error : json["errors"])
        if (error.is_object()) errors.push_back({string_field(error, "code"), string_field(error, "message")});
    return errors;
}

std::string describe(const Request& request, const Response& response,
                     const std::vector<RegistryDiagnostic>& errors, std::string_view explanation) {
    std::string text = request.method + " " + request.url + ": " + std::to_string(response.status) +
                       (response.reason.empty() ? "" : " " + response.reason);
    for (const auto& error : errors) {
        text += ", " + error.code;
        if (!error.message.empty()) text += " (" + error.message + ")";
    }
    if (errors.empty() && !response.body.empty() && response.body.size() < 200 &&
        response.body.find('\n') == response.body.size() - 1)
        text += ": " + response.body.substr(0, response.body.size() - 1);
    if (!explanation.empty()) text += ": " + std::string(explanation);
    // The body is the server's: never let it break the one-line promise.
    return printable(text);
}

// What follows "/manifests/" or "/blobs/" in a DELETE's URL: the tag or digest it named.
std::string reference_in(std::string_view url, std::string_view kind) {
    const auto at = url.rfind(kind);
    if (at == std::string_view::npos) return "";
    std::string_view reference = url.substr(at + kind.size());
    return std::string(reference.substr(0, reference.find_first_of("?#")));
}

}  // namespace

RegistryError::RegistryError(const Request& request, const Response& response, std::string_view explanation)
    : RegistryError(request, response, diagnostics_of(response), explanation) {}

RegistryError::RegistryError(const Request& request, const Response& response,
                             std::vector<RegistryDiagnostic> errors, std::string_view explanation)
    : std::runtime_error(describe(request, response, errors, explanation)),
      status_(response.status),
      errors_(std::move(errors)) {}

const std::string& RegistryError::code() const {
    static const std::string none;
    return errors_.empty() ? none : errors_.front().code;
}

bool RegistryError::has_code(std::string_view code) const {
    return std::any_of(errors_.begin(), errors_.end(), [&](const auto& error) { return error.code == code; });
}

//! [status_gate]
Response check_status(const Request& request, Response response, std::initializer_list<long> expected) {
    if (std::find(expected.begin(), expected.end(), response.status) == expected.end())
        throw RegistryError(request, response);
    return response;
}

Response perform_expecting(HttpClient& http, const Request& request, std::initializer_list<long> expected,
                           const BodySink& sink) {
    return check_status(request, http.perform(request, sink), expected);
}
//! [status_gate]

std::string explain_delete_refusal(const Request& request, const Response& response) {
    const std::string code = RegistryError(request, response).code();
    const std::string manifest = reference_in(request.url, "/manifests/");
    if (response.status == 405 && code == "UNSUPPORTED")
        return "deleting is switched off on this registry (storage.delete.enabled is false, as on "
               "Docker Hub)";
    if (response.status == 400 && code == "DIGEST_INVALID") {
        if (!manifest.empty() && !Digest::is_digest(manifest))
            return "registry 2.8.2 deletes a manifest by digest only, never by tag: HEAD '" + manifest +
                   "' for its Docker-Content-Digest and DELETE that";
        return "not a digest: 'sha256:' and 64 lower-case hex characters";
    }
    if (response.status == 404 && code == "MANIFEST_UNKNOWN")
        return "the repository has no manifest with this digest: never pushed here, or deleted already";
    if (response.status == 404 && code == "BLOB_UNKNOWN")
        return "the repository has no link to this blob: never pushed here, or unlinked already "
               "(other repositories may still hold it)";
    if (response.status == 404 && code == "NAME_UNKNOWN") return "the repository does not exist";
    if (response.status == 401 || response.status == 403)
        return "deleting needs credentials with the delete right on this repository";
    return "";
}

}  // namespace wbclient
