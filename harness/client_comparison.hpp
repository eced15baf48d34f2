// How each client talked to the registry, told from the registry's own log alone: chapter 16
// puts docker, podman, buildah, skopeo and our library on one registry and compares them.
#pragma once

#include "observed_exchange.hpp"

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace harness {

/// One client's conversation, as the registry logged it. What the log cannot show (request
/// headers such as Accept, request body sizes) is not here: see chapter 16.
struct ClientConversation {
    std::string client;                    ///< the user agent's first word, "Buildah/1.28.2"
    std::string name;                      ///< the program behind it: client_name(client)
    std::set<std::string> repositories;    ///< the repositories it named
    std::set<std::string> pushed_to;       ///< the repositories it PUT a manifest into
    std::size_t requests = 0;
    std::size_t connections = 0;           ///< distinct client address:port pairs
    std::size_t manifest_heads = 0;
    std::size_t manifest_gets = 0;
    std::size_t blob_heads = 0;
    std::size_t blob_gets = 0;
    /// Blob HEADs that came before the POST starting that client's first upload in the same
    /// repository: "does the registry have it already?"
    std::size_t heads_before_upload = 0;
    std::size_t uploads_started = 0;       ///< POST /blobs/uploads/ answered 202
    std::size_t mounts = 0;                ///< POST ...?mount= answered 201: no byte sent
    std::size_t monolithic_uploads = 0;    ///< finished by a PUT with no PATCH before it
    std::size_t one_patch_uploads = 0;     ///< one PATCH with the whole blob, then PUT
    std::size_t chunked_uploads = 0;       ///< more than one PATCH
    /// PATCH sizes the registry's upload state shows (the _state Offset of the next request
    /// minus this one's), smallest and largest; 0 when none was measurable.
    std::uint64_t smallest_patch = 0;
    std::uint64_t largest_patch = 0;
    std::size_t upload_status_checks = 0;  ///< GET of an upload (where did it stop?): resumes
    std::size_t manifest_puts = 0;
    std::set<std::string> manifest_types;  ///< the Content-Types of those PUTs
    std::size_t deletes = 0;
    std::size_t tag_lists = 0;
};

/// The client (the user agent's first word) of each exchange, in order of first appearance;
/// exchanges of `ignored_agents` (the harness's own) are left out.
std::vector<ClientConversation> compare_clients(const std::vector<ObservedExchange>& log,
                                                const std::set<std::string>& ignored_agents = {});

/// The program a user agent's first word names: "skopeo", "buildah", "docker" (the daemon),
/// "docker CLI" (Docker-Client/<version>: the CLI on its own, docker manifest inspect), "our library",
/// and "podman" for "containers/<version>": podman sends containers/image's own user agent.
/// The word itself for any other.
std::string client_name(const std::string& client);

/// The repository a /v2/<name>/... path names ("" for /v2/ and /v2/_catalog).
std::string repository_of(const std::string& path);

}  // namespace harness
