// Two ways to write a recorded request path: shortened for a reader (digests cut to their
// first hex digits) and templated for comparison (every value that differs from run to run,
// or from image to image, replaced by a placeholder).
#pragma once

#include <string>
#include <vector>

namespace book {

/// "/v2/my-busybox/blobs/sha256:3f2a9c1b…" : short enough for a diagram's arrow.
std::string shortened_path(const std::string& uri);

/// "/v2/my-busybox/blobs/<digest>" : the same for every blob, the key of a golden line.
std::string path_template(const std::string& uri);

/// Every full digest in `text`, in order of first appearance (the diagram's legend).
std::vector<std::string> digests_in(const std::string& text);

}  // namespace book
