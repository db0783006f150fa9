#pragma once
// A TCP proxy on 127.0.0.1 for fault tests (header-only): a daemon is pointed at the proxy instead
// of the real server, and the test cuts the link (every connection closed, new ones closed as
// soon as they arrive) and restores it, as when a database restarts or a network drops. The
// listening socket stays open throughout, so the port never changes hands.
#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>

namespace waddle::test {

class TcpProxy {
 public:
  explicit TcpProxy(std::uint16_t target_port)
      : target_port_(target_port), guard_(io_.get_executor()) {
    open(0);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TcpProxy() {
    cut();
    boost::asio::post(io_, boost::asio::use_future([this] {
                        boost::system::error_code ec;
                        if (acceptor_) acceptor_->close(ec);
                      }))
        .get();
    guard_.reset();
    io_.stop();
    thread_.join();
  }
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  std::uint16_t port() const { return port_; }

  // Closes every connection; new ones are closed on arrival until restore().
  void cut() {
    boost::asio::post(io_, boost::asio::use_future([this] {
                        boost::system::error_code ec;
                        cut_ = true;
                        for (auto& weak : sockets_) {
                          if (auto socket = weak.lock()) socket->close(ec);
                        }
                        sockets_.clear();
                      }))
        .get();
  }
  void restore() {
    boost::asio::post(io_, boost::asio::use_future([this] { cut_ = false; })).get();
  }

 private:
  using tcp = boost::asio::ip::tcp;

  void open(std::uint16_t port) {
    acceptor_ = std::make_shared<tcp::acceptor>(io_);
    tcp::endpoint endpoint(boost::asio::ip::make_address("127.0.0.1"), port);
    acceptor_->open(endpoint.protocol());
    acceptor_->set_option(tcp::acceptor::reuse_address(true));
    acceptor_->bind(endpoint);
    acceptor_->listen();
    port_ = acceptor_->local_endpoint().port();
    boost::asio::co_spawn(io_, accept(acceptor_), boost::asio::detached);
  }

  boost::asio::awaitable<void> accept(std::shared_ptr<tcp::acceptor> acceptor) {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket client = co_await acceptor->async_accept(
          boost::asio::redirect_error(boost::asio::use_awaitable, ec));
      if (ec) co_return;
      if (cut_) {
        client.close(ec);
        continue;
      }
      auto in = std::make_shared<tcp::socket>(std::move(client));
      sockets_.push_back(in);
      auto out = std::make_shared<tcp::socket>(io_);
      co_await out->async_connect({boost::asio::ip::make_address("127.0.0.1"), target_port_},
                                  boost::asio::redirect_error(boost::asio::use_awaitable, ec));
      if (ec || cut_) {
        in->close(ec);
        continue;
      }
      sockets_.push_back(out);
      boost::asio::co_spawn(io_, pump(in, out), boost::asio::detached);
      boost::asio::co_spawn(io_, pump(out, in), boost::asio::detached);
    }
  }

  static boost::asio::awaitable<void> pump(std::shared_ptr<tcp::socket> from,
                                           std::shared_ptr<tcp::socket> to) {
    std::vector<char> buffer(16384);
    for (;;) {
      boost::system::error_code ec;
      std::size_t n = co_await from->async_read_some(
          boost::asio::buffer(buffer), boost::asio::redirect_error(boost::asio::use_awaitable, ec));
      if (ec) break;
      co_await boost::asio::async_write(
          *to, boost::asio::buffer(buffer.data(), n),
          boost::asio::redirect_error(boost::asio::use_awaitable, ec));
      if (ec) break;
    }
    boost::system::error_code ignored;
    from->close(ignored);
    to->close(ignored);
  }

  std::uint16_t target_port_;
  std::uint16_t port_ = 0;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::shared_ptr<tcp::acceptor> acceptor_;
  std::vector<std::weak_ptr<tcp::socket>> sockets_;
  bool cut_ = false;  // touched on the io thread only
  std::thread thread_;
};

}  // namespace waddle::test
