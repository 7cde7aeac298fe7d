module github.com/twinsim/twinsim

go 1.26.8
