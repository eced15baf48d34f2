#include "wbclient/distribution/registry_client.hpp"

#include "wbclient/http/url.hpp"

namespace wbclient {

RegistryClient::RegistryClient(std::string_view registry, const ClientOptions& options)
    : base_url_(registry_base_url(registry)), http_(options) {}

RegistryClient::RegistryClient(std::string base_url, HttpClient http)
    : base_url_(std::move(base_url)), http_(std::move(http)) {}

RegistryClient RegistryClient::sibling() const { return RegistryClient(base_url_, http_.sibling()); }

std::string RegistryClient::url(std::string_view repository, std::string_view rest) const {
    return base_url_ + "/v2/" + std::string(repository) + "/" + std::string(rest);
}

std::string RegistryClient::absolute(std::string_view location) const {
    return resolve_upload_location(base_url_, location);
}

}  // namespace wbclient
