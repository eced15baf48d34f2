// The one rule for following an upload Location: the same registry, or nowhere.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace wbclient {

/// A registry answered with a Location the client will not follow: one on another host (the
/// blob, and with an authorizer the credentials, would go wherever the answer says), or one
/// that is neither an absolute URL nor a path. Nothing was sent to it.
class LocationRefused : public std::runtime_error {
public:
    LocationRefused(std::string location, const std::string& reason);
    /// The Location as the registry sent it.
    const std::string& location() const { return location_; }

private:
    std::string location_;
};

/// Makes an upload Location (the answer to POST, PATCH, GET of a session, a mount that fell
/// back to an upload, or a checkpoint's saved Location) absolute against the registry's
/// `base_url` ("http(s)://host:port"). Accepts an absolute URL on the same scheme, host and
/// port (compared ignoring case), a network-path "//host:port/..." naming that same server,
/// or a path "/v2/..."; throws LocationRefused for anything else. Every upload path in the
/// library goes through here, so the rule has one home.
std::string resolve_upload_location(std::string_view base_url, std::string_view location);

}  // namespace wbclient
