// The external engine: a registry someone else runs, reached by URL. It can be talked to,
// but its log and storage are out of reach, so tests that need them fail saying so.
#include "registry_instance.hpp"

#include "wbclient/http/url.hpp"

#include <stdexcept>

namespace fs = std::filesystem;

namespace harness {
namespace {

class ExternalRegistry final : public RegistryInstance {
public:
    explicit ExternalRegistry(std::string url) : url_(std::move(url)) {
        const auto refuse = [] {
            return std::invalid_argument("WORKBOOK_REGISTRY must be http://host:port for the external engine");
        };
        try {
            const wbclient::Url url(url_);
            if (url.scheme() != "http" || url.path_and_query() != "/") throw refuse();
            host_port_ = url.authority();
        } catch (const std::invalid_argument&) {
            throw refuse();
        }
        if (!wait_until_answering(url_, 5))
            throw std::runtime_error("the external registry " + url_ + " does not answer");
    }
    std::string host_port() const override { return host_port_; }
    std::string log() const override {
        throw std::runtime_error("the external engine cannot read the registry's log; this test needs native or compose");
    }
    fs::path storage_root() const override {
        throw std::runtime_error("the external engine cannot see the registry's storage; this test needs native or compose");
    }
    std::string engine() const override { return "external"; }
    void stop() override { unsupported("stop"); }
    void kill() override { unsupported("kill"); }
    void start() override { unsupported("start"); }
    RunResult garbage_collect(const std::vector<std::string>&) override {
        unsupported("garbage-collect");
    }

private:
    [[noreturn]] void unsupported(const std::string& what) const {
        throw std::runtime_error("the external engine cannot " + what + " " + url_ +
                                 "; this test needs native or compose");
    }
    std::string url_;
    std::string host_port_;
};

}  // namespace

std::unique_ptr<RegistryInstance> connect_external_registry(const RegistrySpec& spec) {
    const char* variable = spec.role == "upstream" ? "WORKBOOK_UPSTREAM" : "WORKBOOK_REGISTRY";
    const char* url = std::getenv(variable);
    if (!url || !*url)
        throw std::runtime_error(std::string("the external engine needs ") + variable +
                                 "=http://host:port");
    return std::make_unique<ExternalRegistry>(url);
}

}  // namespace harness
