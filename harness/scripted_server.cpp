#include "scripted_server.hpp"

#include "wbclient/model/text.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <sys/socket.h>

#include <condition_variable>
#include <list>
#include <mutex>
#include <thread>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace harness {

std::string ScriptedRequest::header(std::string_view name) const {
    for (const auto& [field, value] : headers)
        if (wbclient::equals_ignoring_case(field, name)) return value;
    return "";
}

struct ScriptedServer::State {
    RequestHandler handler;
    asio::io_context io;
    tcp::acceptor acceptor{io};
    std::thread accept_thread;
    mutable std::mutex mutex;
    std::vector<std::thread> connections;
    std::list<tcp::socket> sockets;  // owned here, so no descriptor is reused while we run
    std::vector<std::string> requests;
    bool stopping = false;
    std::condition_variable stopped;

    // A silent server: hold the connection open, writing nothing, until the server stops.
    void stay_silent() {
        std::unique_lock lock(mutex);
        stopped.wait(lock, [this] { return stopping; });
    }

    // Every way out of a connection closes it, as a real server does; a client waiting for
    // more would otherwise hang until its own timeout.
    void serve(tcp::socket& socket) {
        serve_requests(socket);
        beast::error_code ignored;
        socket.shutdown(tcp::socket::shutdown_both, ignored);
    }

    void serve_requests(tcp::socket& socket) {
        beast::flat_buffer buffer;
        beast::error_code error;
        while (true) {
            http::request<http::string_body> request;
            http::read(socket, buffer, request, error);
            if (error) return;
            ScriptedRequest seen{.method = std::string(request.method_string()),
                                 .target = std::string(request.target()),
                                 .body = request.body()};
            for (const auto& field : request)
                seen.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
            {
                std::lock_guard lock(mutex);
                requests.push_back(seen.method + " " + seen.target);
            }
            const ScriptedResponse scripted = handler(seen);
            using Delivery = ScriptedResponse::Delivery;
            if (scripted.delivery == Delivery::never_answer) return stay_silent();
            http::response<http::string_body> response{static_cast<http::status>(scripted.status),
                                                       request.version()};
            for (const auto& [name, value] : scripted.headers) response.set(name, value);
            response.body() = scripted.body;
            if (response.find(http::field::content_length) == response.end())
                response.prepare_payload();
            response.keep_alive(request.keep_alive());
            if (scripted.delivery != Delivery::normal) {
                // Beast writes the headers as given; the body goes out raw, as much as asked.
                http::response_serializer<http::string_body> serializer(response);
                serializer.split(true);
                http::write_header(socket, serializer, error);
                const std::size_t n = std::min(scripted.body_bytes, scripted.body.size());
                if (!error && request.method() != http::verb::head)
                    asio::write(socket, asio::buffer(scripted.body.data(), n), error);
                if (scripted.delivery == Delivery::stall_after) stay_silent();
                return;
            }
            // A HEAD answer carries the headers only.
            if (request.method() == http::verb::head) {
                http::response_serializer<http::string_body> serializer(response);
                serializer.split(true);
                http::write_header(socket, serializer, error);
            } else {
                http::write(socket, response, error);
            }
            if (error || !request.keep_alive()) return;
        }
    }

    void accept_loop() {
        while (true) {
            tcp::socket socket(io);
            beast::error_code error;
            acceptor.accept(socket, error);
            std::lock_guard lock(mutex);
            if (error || stopping) return;
            tcp::socket& kept = sockets.emplace_back(std::move(socket));
            connections.emplace_back([this, &kept] { serve(kept); });
        }
    }
};

ScriptedServer::ScriptedServer(Script script)
    : ScriptedServer(RequestHandler([script = std::move(script)](const ScriptedRequest& request) {
          return script(request.method, request.target);
      })) {}

ScriptedServer::ScriptedServer(RequestHandler handler, unsigned short port) : state_(std::make_unique<State>()) {
    state_->handler = std::move(handler);
    state_->acceptor.open(tcp::v4());
    state_->acceptor.set_option(asio::socket_base::reuse_address(true));
    state_->acceptor.bind(tcp::endpoint(asio::ip::address_v4::loopback(), port));
    state_->acceptor.listen();
    state_->accept_thread = std::thread([this] { state_->accept_loop(); });
}

ScriptedServer::~ScriptedServer() {
    {
        std::lock_guard lock(state_->mutex);
        state_->stopping = true;
        state_->stopped.notify_all();
        // shutdown() wakes the blocked accept() and any blocked read.
        ::shutdown(state_->acceptor.native_handle(), SHUT_RDWR);
        for (auto& socket : state_->sockets) ::shutdown(socket.native_handle(), SHUT_RDWR);
    }
    state_->accept_thread.join();
    for (auto& connection : state_->connections) connection.join();
}

std::string ScriptedServer::host_port() const {
    return "127.0.0.1:" + std::to_string(state_->acceptor.local_endpoint().port());
}

std::vector<std::string> ScriptedServer::requests() const {
    std::lock_guard lock(state_->mutex);
    return state_->requests;
}

}  // namespace harness
