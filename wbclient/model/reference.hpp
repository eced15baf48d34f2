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

/// The base URL of a registry given as "host:port" or "http(s)://host:port". Without a
/// scheme the workbook speaks plain HTTP, which is what a local registry serves.
/// Throws std::invalid_argument for anything else.
std::string registry_base_url(std::string_view registry);

}  // namespace wbclient
