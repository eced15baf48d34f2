#include "registry_instance.hpp"

#include "wbclient/http/http.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <thread>

namespace harness {

std::string engine_from_environment() {
    const char* engine = std::getenv("WORKBOOK_ENGINE");
    return engine && *engine ? engine : "native";
}

std::unique_ptr<RegistryInstance> start_registry(const RegistrySpec& spec,
                                                 const std::filesystem::path& workdir) {
    return start_registry(spec, workdir, engine_from_environment());
}

std::unique_ptr<RegistryInstance> start_registry(const RegistrySpec& spec,
                                                 const std::filesystem::path& workdir,
                                                 const std::string& engine) {
    if (engine == "native") return start_native_registry(spec, workdir);
    if (engine == "compose") return start_compose_registry(spec, workdir);
    if (engine == "external") return connect_external_registry(spec);
    throw std::invalid_argument("WORKBOOK_ENGINE='" + engine +
                                "' is not one of native, compose, external");
}

bool wait_until_answering(const std::string& url, double seconds) {
    wbclient::HttpClient http;  // no observers: readiness probes stay out of transcripts
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
        try {
            wbclient::Request probe{.method = "GET", .url = url + "/v2/"};
            // Its own user agent, so tests can tell probes from the programs' requests.
            probe.headers.add("User-Agent", harness_user_agent);
            if (http.perform(probe).status != 0) return true;
        } catch (const std::exception&) {
            // not listening yet
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

unsigned short free_loopback_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) throw std::runtime_error("socket() failed");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof address;
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
    ::close(fd);
    if (!ok) throw std::runtime_error("no free port on 127.0.0.1");
    return ntohs(address.sin_port);
}

}  // namespace harness
