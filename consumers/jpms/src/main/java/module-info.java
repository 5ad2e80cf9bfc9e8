// README.md: "module-info.java of your code:  requires reclaim.api;   (reclaim.impl on the module path or class path)"
module consumer.jpms {
    requires reclaim.api;
}
