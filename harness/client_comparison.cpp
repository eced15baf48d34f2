#include "client_comparison.hpp"

#include "wbclient/distribution/uploads.hpp"

#include <algorithm>
#include <optional>

namespace harness {
namespace {

// The part after the repository: "manifests/latest", "blobs/uploads/<uuid>", "tags/list".
std::string resource_of(const std::string& path) {
    for (const char* kind : {"/manifests/", "/blobs/", "/tags/"}) {
        const auto at = path.rfind(kind);
        if (at != std::string::npos) return path.substr(at + 1);
    }
    return {};
}

// The offset the registry's signed upload state carries in this request's URI: how many
// bytes it had before the request.
std::optional<std::uint64_t> offset_in(const std::string& uri) {
    const auto state = wbclient::upload_state_of(uri);
    if (!state || !state->contains("Offset") || !(*state)["Offset"].is_number_unsigned()) return std::nullopt;
    return (*state)["Offset"].get<std::uint64_t>();
}

struct Upload {
    std::vector<const ObservedExchange*> requests;  // after the POST, in order
};

}  // namespace

std::string client_name(const std::string& client) {
    // docker's daemon says "docker/<version> ..."; its CLI, when it talks to a registry itself
    // (docker manifest inspect), "Docker-Client/<version> (linux)".
    for (const auto& [prefix, name] : std::vector<std::pair<std::string, std::string>>{
             {"skopeo/", "skopeo"}, {"Buildah/", "buildah"}, {"containers/", "podman"},
             {"docker/", "docker"}, {"Docker-Client/", "docker CLI"}, {"registry-workbook/", "our library"}})
        if (client.starts_with(prefix)) return name;
    return client;
}

std::string repository_of(const std::string& path) {
    if (!path.starts_with("/v2/")) return {};
    for (const char* kind : {"/manifests/", "/blobs/", "/tags/"}) {
        const auto at = path.rfind(kind);
        if (at != std::string::npos && at > 4) return path.substr(4, at - 4);
    }
    return {};
}

std::vector<ClientConversation> compare_clients(const std::vector<ObservedExchange>& log,
                                                const std::set<std::string>& ignored_agents) {
    std::vector<ClientConversation> clients;
    std::map<std::string, std::vector<const ObservedExchange*>> by_client;
    for (const ObservedExchange& exchange : log) {
        const std::string client = exchange.user_agent.substr(0, exchange.user_agent.find(' '));
        if (ignored_agents.contains(exchange.user_agent) || ignored_agents.contains(client)) continue;
        if (!by_client.contains(client)) clients.push_back({.client = client, .name = client_name(client)});
        by_client[client].push_back(&exchange);
    }
    for (ClientConversation& row : clients) {
        const auto& exchanges = by_client[row.client];
        std::set<std::string> addresses;
        std::map<std::string, Upload> uploads;  // by the upload's path
        std::vector<std::string> upload_order;
        for (std::size_t i = 0; i < exchanges.size(); ++i) {
            const ObservedExchange& e = *exchanges[i];
            const std::string path = e.path();
            const std::string repository = repository_of(path);
            const std::string resource = resource_of(path);
            ++row.requests;
            if (!e.remote_address.empty()) addresses.insert(e.remote_address);
            if (!repository.empty()) row.repositories.insert(repository);
            if (resource.starts_with("manifests/")) {
                if (e.method == "HEAD") ++row.manifest_heads;
                else if (e.method == "GET") ++row.manifest_gets;
                else if (e.method == "PUT") {
                    ++row.manifest_puts;
                    if (e.status == 201) row.pushed_to.insert(repository);
                    if (!e.content_type.empty()) row.manifest_types.insert(e.content_type);
                } else if (e.method == "DELETE") ++row.deletes;
            } else if (resource == "blobs/uploads/") {
                if (e.method == "POST" && e.status == 201 && e.uri.find("mount=") != std::string::npos) ++row.mounts;
                else if (e.method == "POST" && e.status == 201) ++row.monolithic_uploads;  // POST with the digest and body
                else if (e.method == "POST" && e.status == 202) ++row.uploads_started;
            } else if (resource.starts_with("blobs/uploads/")) {
                if (!uploads.contains(path)) upload_order.push_back(path);
                uploads[path].requests.push_back(&e);
                if (e.method == "GET") ++row.upload_status_checks;
            } else if (resource.starts_with("blobs/")) {
                if (e.method == "HEAD") {
                    ++row.blob_heads;
                    const bool uploads_later = std::any_of(exchanges.begin() + static_cast<std::ptrdiff_t>(i),
                                                           exchanges.end(), [&](const ObservedExchange* later) {
                        return later->method == "POST" && repository_of(later->path()) == repository;
                    });
                    if (uploads_later) ++row.heads_before_upload;
                } else if (e.method == "GET") ++row.blob_gets;
                else if (e.method == "DELETE") ++row.deletes;
            } else if (resource == "tags/list") {
                ++row.tag_lists;
            }
        }
        row.connections = addresses.size();
        for (const std::string& path : upload_order) {
            const auto& requests = uploads[path].requests;
            const auto patches = std::count_if(requests.begin(), requests.end(),
                                               [](const ObservedExchange* e) { return e->method == "PATCH"; });
            const bool finished = std::any_of(requests.begin(), requests.end(), [](const ObservedExchange* e) {
                return e->method == "PUT" && e->status == 201;
            });
            if (!finished) continue;
            if (patches == 0) ++row.monolithic_uploads;
            else if (patches == 1) ++row.one_patch_uploads;
            else ++row.chunked_uploads;
            for (std::size_t i = 0; i + 1 < requests.size(); ++i) {
                if (requests[i]->method != "PATCH" || requests[i]->status != 202) continue;
                const auto before = offset_in(requests[i]->uri);
                const auto after = offset_in(requests[i + 1]->uri);
                if (!before || !after || *after < *before) continue;
                const std::uint64_t size = *after - *before;
                if (row.smallest_patch == 0 || size < row.smallest_patch) row.smallest_patch = size;
                row.largest_patch = std::max(row.largest_patch, size);
            }
        }
    }
    return clients;
}

}  // namespace harness
