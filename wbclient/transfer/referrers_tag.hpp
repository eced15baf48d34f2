// The referrers tag schema (OCI distribution spec 1.1, "unavailable referrers API"): where a
// registry has no referrers API, the referrers of a manifest are kept by the clients that push
// them, in an image index tagged `sha256-<hex of the subject digest>`. Read it (404: none
// yet), add a descriptor, push it back. Registry 2.8.2 has no conditional PUT (no If-Match),
// so two clients doing this at once can lose one descriptor; add_referrer compares the tag's
// digest with the one it read, before and after writing, to notice and try again.
#pragma once

#include "wbclient/distribution/registry_client.hpp"
#include "wbclient/model/artifact.hpp"

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace wbclient {

/// The referrers tag holds something that is not an OCI image index (an image, a Docker
/// manifest list, another client's mistake). Writing over it would destroy that, so the
/// client refuses. The message is one line.
class NotAReferrersIndex : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// What the referrers tag held when it was read.
struct ReferrersTagState {
    std::string tag;               ///< `sha256-<hex>`
    std::optional<Digest> digest;  ///< the index's digest; nothing if the tag did not exist (404)
    std::vector<Descriptor> referrers;
};

/// GET the referrers tag of `subject`. A 404 (no tag yet, or no such repository) is an empty
/// list; anything but an OCI image index is NotAReferrersIndex.
ReferrersTagState read_referrers_tag(RegistryClient& client, std::string_view repository, const Digest& subject);

/// HEAD the referrers tag: the digest it holds now, or nothing if there is no such tag.
std::optional<Digest> referrers_tag_digest(RegistryClient& client, std::string_view repository, const Digest& subject);

/// PUT an image index of `referrers` under the referrers tag; returns its digest. Blind: it
/// replaces whatever the tag holds (see add_referrer).
Digest write_referrers_tag(RegistryClient& client, std::string_view repository, const Digest& subject,
                           const std::vector<Descriptor>& referrers);

/// What add_referrer did.
struct ReferrerAdded {
    std::optional<Digest> tag_digest;  ///< what the tag holds at the end
    int attempts = 0;                  ///< read-modify-write rounds it took
    bool already_listed = false;       ///< the tag named the referrer already: nothing written
    std::vector<std::string> conflicts;  ///< one line per concurrent update it noticed
};

/// Adds `referrer` to the referrers tag of `subject`: read, add, check that the tag still
/// holds the digest read (HEAD), write, check that it now holds what was written. A changed
/// digest at either check means another client wrote in between: start over from a fresh read
/// (its index may already name ours). The checks narrow the window; without If-Match they
/// cannot close it (a PUT landing between our HEAD and our PUT is lost without a trace).
/// Throws std::runtime_error after `max_attempts` rounds that all met a conflict.
ReferrerAdded add_referrer(RegistryClient& client, std::string_view repository, const Digest& subject,
                           const Descriptor& referrer, int max_attempts = 5);

}  // namespace wbclient
