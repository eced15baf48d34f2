// Image references: [host[:port]/]name[:tag][@digest], parsed the way docker reads them.
#pragma once

#include "wbclient/model/digest.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace wbclient {

/// Where an image lives and which version of it is meant.
struct Reference {
    std::string registry;    ///< host[:port], e.g. "localhost:5000"
    std::string repository;  ///< e.g. "my-busybox" or "library/busybox"
    std::string tag;         ///< "latest" when neither tag nor digest was given
    std::optional<Digest> digest;

    /// What goes after /manifests/ in a URL: the digest when pinned, else the tag.
    std::string manifest_reference() const { return digest ? digest->str() : tag; }
    /// The canonical text form, e.g. "localhost:5000/my-busybox:latest".
    std::string str() const;

    /// Parses `text`; a first component without '.', ':' or "localhost" is part of the name
    /// and the image lives on `default_registry`. Single-component names on Docker Hub get
    /// the "library/" prefix, as docker does. Throws std::invalid_argument with a one-line
    /// reason when the reference is malformed.
    static Reference parse(std::string_view text,
                           std::string_view default_registry = "localhost:5000");
};

/// Throws std::invalid_argument ("invalid reference", quoting `text`, then why) unless
/// `registry` is a registry as a reference names it: a host name, IPv4 or bracketed IPv6
/// address, and an optional port from 1 to 65535. registry_base_url (http/url.hpp) checks
/// with it too.
void check_registry_name(std::string_view text, std::string_view registry);

}  // namespace wbclient
