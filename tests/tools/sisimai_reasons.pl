#!/usr/bin/perl
# Reads an mbox of bounces with Sisimai (Debian's libsisimai-perl) and prints, for each,
# the recipient's address and the reason Sisimai decided, tab-separated.
use strict;
use warnings;
use Sisimai;

my $parsed = Sisimai->make($ARGV[0], 'delivered' => 1) || [];
for my $e (@$parsed) {
    print join("\t", $e->recipient->address, $e->reason), "\n";
}
