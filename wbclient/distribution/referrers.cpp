#include "wbclient/distribution/referrers.hpp"

#include "wbclient/distribution/registry_client.hpp"
#include "wbclient/distribution/registry_error.hpp"
#include "wbclient/http/url.hpp"

#include <stdexcept>

namespace wbclient {

//! [get_referrers]
ReferrersAnswer get_referrers(RegistryClient& client, std::string_view repository, const Digest& subject,
                              std::string_view artifact_type) {
    std::string url = client.url(repository, "referrers/" + subject.str());
    if (!artifact_type.empty()) url = Url(url).with_query("artifactType", artifact_type).str();
    Request request{.method = "GET", .url = url};
    request.headers.add("Accept", std::string(media_type::oci_index));
    // 404 is an answer here, not a failure: it is how a registry without the API says so.
    Response response = perform_expecting(client.http(), request, {200, 404});
    ReferrersAnswer answer{.status = response.status,
                           .reason = response.reason,
                           .headers = response.headers,
                           .body = response.body};
    if (response.status == 404) return answer;
    try {
        answer.index = Manifest::parse(response.body, response.headers.get("Content-Type").value_or(""));
    } catch (const std::invalid_argument& error) {
        throw std::runtime_error("GET " + url + ": 200, but " + error.what());
    }
    if (!answer.index->is_index())
        throw std::runtime_error("GET " + url + ": 200, but the answer is a " + answer.index->media_type +
                                 ", not an image index");
    const auto applied = response.headers.get("OCI-Filters-Applied");
    answer.filtered = applied && applied->find("artifactType") != std::string::npos;
    return answer;
}
//! [get_referrers]

}  // namespace wbclient
