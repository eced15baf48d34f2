#include "wbclient/distribution/base.hpp"

#include "wbclient/distribution/registry_client.hpp"
#include "wbclient/distribution/registry_error.hpp"
#include "wbclient/http/url.hpp"

#include <stdexcept>

namespace wbclient {

namespace {

// The library's one GET /v2/. ping and ping_checking_scheme differ only in how they read what
// it gives: the first gates the status, the second explains a wrong scheme or certificate.
Request root_request(const RegistryClient& client) {
    return Request{.method = "GET", .url = client.base_url() + "/v2/"};
}

}  // namespace

Response ping(RegistryClient& client) {
    const Request request = root_request(client);
    return check_status(request, client.http().perform(request), {200});
}

Response ping_checking_scheme(RegistryClient& client) {
    const std::string& base = client.base_url();
    const Url url(base);
    const bool https = url.scheme() == "https";
    const std::string host = url.authority();
    Response response;
    try {
        response = client.http().perform(root_request(client));
    } catch (const std::runtime_error& error) {
        // libcurl's words for each failure, as HttpClient reports them.
        const std::string what = error.what();
        if (https && what.find("SSL connect error") != std::string::npos)
            throw std::runtime_error(base + " does not speak TLS (" + what +
                                     "); if it is a plain-HTTP registry, use http://" + host);
        if (https && what.find("SSL peer certificate") != std::string::npos)
            throw std::runtime_error(base + " has a certificate this client does not trust (" + what +
                                     "); give its CA's certificate as the CA file (TlsOptions::ca_file)");
        throw;
    }
    // Go's TLS server answers plain HTTP with 400 and this sentence.
    if (!https && response.status == 400 &&
        response.body.find("HTTP request to an HTTPS server") != std::string::npos)
        throw std::runtime_error(base + " speaks HTTPS only (it answered: 400 \"" +
                                 response.body.substr(0, response.body.find_last_not_of("\r\n") + 1) +
                                 "\"); use https://" + host);
    return response;
}

}  // namespace wbclient
