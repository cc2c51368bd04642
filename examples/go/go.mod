module github.com/byok-proxy/examples/chat

go 1.19
