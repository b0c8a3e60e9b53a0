module github.com/lockchat/lockchat/cmd/lockchat

go 1.26.0

require github.com/lockchat/lockchat v0.0.0

replace github.com/lockchat/lockchat => ../..
