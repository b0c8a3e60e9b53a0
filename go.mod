module github.com/lockchat/lockchat

go 1.23
