#!/usr/bin/perl
# Peer benchmark harness for Mail::DKIM (Debian: libmail-dkim-perl).
#
#   maildkim_bench.pl sign|verify ed25519|rsa2048 CORPUS_DIR KEY_DIR
#
# Same interface as every harness driven by bench/peers.sh: all the *.eml in
# CORPUS_DIR are read into memory and the key is parsed before the clock
# starts; `sign` signs every message in passes until MTAS_BENCH_SECONDS (default 2)
# have elapsed, at least one full pass; `verify` signs every message once
# (untimed), then verifies in passes and dies unless each one passes. Prints
# one JSON line: {"impl":"mail-dkim","alg":..,"op":..,"messages":N,"bytes":B,"seconds":S}
# (totals over all passes; bytes counts the unsigned messages).
#
# rsa-sha256, relaxed/relaxed, Mail::DKIM's default header list. Exit status 3
# means "algorithm not supported by this Mail::DKIM" (Debian 12's 1.20230212
# has no ed25519-sha256; the driver prints n/a).
#
# Key: parsed once into a Crypt::OpenSSL::RSA object and handed to the signer
# as a Mail::DKIM::PrivateKey (Cork), so nothing is re-read per message.
# DNS: Mail::DKIM::DNS::resolver() takes a Net::DNS::Resolver-like object; the
# one below answers send(NAME, 'TXT') from KEY_DIR/keys.txt with a reply packet
# built once at startup. Mail::DKIM still parses the key record per message.
use strict;
use warnings;
use Time::HiRes qw(clock_gettime CLOCK_MONOTONIC);
use Crypt::OpenSSL::RSA;
use Mail::DKIM::Signer;
use Mail::DKIM::Verifier;
use Mail::DKIM::PrivateKey;
use Mail::DKIM::DNS;
use Net::DNS;

my ( $op, $alg, $corpus, $keydir ) = @ARGV;
die "usage: $0 sign|verify ed25519|rsa2048 CORPUS_DIR KEY_DIR\n"
  unless defined $keydir && $op =~ /^(sign|verify)$/;
my %selector = ( rsa2048 => 'rsa', ed25519 => 'ed' );
my %algorithm = ( rsa2048 => 'rsa-sha256', ed25519 => 'ed25519-sha256' );
exists $selector{$alg} or die "unknown algorithm $alg\n";
if ( $alg eq 'ed25519' ) {
    print STDERR "maildkim_bench: Mail::DKIM $Mail::DKIM::Signer::VERSION has no ed25519-sha256\n";
    exit 3;
}
my $min_seconds = $ENV{MTAS_BENCH_SECONDS} // 2;

sub slurp {
    my ($path) = @_;
    open my $fh, '<:raw', $path or die "cannot read $path: $!\n";
    local $/;
    return scalar <$fh>;
}

# ---- untimed setup: corpus, key, DNS stand-in ----
opendir my $dh, $corpus or die "cannot open $corpus: $!\n";
my @messages = map { slurp("$corpus/$_") } sort grep { /\.eml$/ } readdir $dh;
closedir $dh;
@messages or die "no *.eml in $corpus\n";
my $pass_bytes = 0;
$pass_bytes += length $_ for @messages;

my $rsa = Crypt::OpenSSL::RSA->new_private_key( slurp("$keydir/$alg.key.pem") );
my $key = Mail::DKIM::PrivateKey->load( Cork => $rsa );

{
    package LocalResolver;    # just enough of Net::DNS::Resolver for Mail::DKIM::DNS
    sub new { my ( $class, %answers ) = @_; return bless { answers => \%answers, error => 'NOERROR' }, $class }
    sub send {
        my ( $self, $name, $type ) = @_;
        my $reply = $self->{answers}{ lc $name };
        $self->{error} = $reply ? 'NOERROR' : 'NXDOMAIN';
        return $reply;
    }
    sub errorstring { return $_[0]->{error} }
}
my %answers;
for my $line ( split /\n/, slurp("$keydir/keys.txt") ) {
    my ( $name, $record ) = split / /, $line, 2;
    next unless defined $record;
    my $reply = Net::DNS::Packet->new( $name, 'TXT', 'IN' );
    $reply->header->qr(1);
    $reply->header->rcode('NOERROR');
    # TXT character-strings are at most 255 octets; the verifier joins them
    $reply->push( answer => Net::DNS::RR->new( name => $name, type => 'TXT',
        txtdata => [ unpack '(a255)*', $record ] ) );
    $answers{ lc $name } = $reply;
}
Mail::DKIM::DNS::resolver( LocalResolver->new(%answers) );

sub sign_one {
    my $signer = Mail::DKIM::Signer->new(
        Algorithm => $algorithm{$alg},
        Method    => 'relaxed/relaxed',
        Domain    => 'bench.example',
        Selector  => $selector{$alg},
        Key       => $key,
    );
    $signer->PRINT( $_[0] );
    $signer->CLOSE;
    my $sig = $signer->signature or die "signing failed\n";
    return $sig->as_string . "\r\n";
}

sub verify_one {
    my $verifier = Mail::DKIM::Verifier->new;
    $verifier->PRINT( $_[0] );
    $verifier->CLOSE;
    $verifier->result eq 'pass'
      or die 'verification did not pass: ' . $verifier->result_detail . "\n";
}

if ( $op eq 'verify' ) {
    @messages = map { sign_one($_) . $_ } @messages;
    verify_one($_) for @messages;    # fail before the clock starts
}

# ---- timed: whole passes until MTAS_BENCH_SECONDS ----
my ( $count, $bytes ) = ( 0, 0 );
my $start = clock_gettime(CLOCK_MONOTONIC);
my $elapsed;
do {
    if   ( $op eq 'sign' ) { sign_one($_) for @messages }
    else                   { verify_one($_) for @messages }
    $count += @messages;
    $bytes += $pass_bytes;
    $elapsed = clock_gettime(CLOCK_MONOTONIC) - $start;
} while ( $elapsed < $min_seconds );

printf qq({"impl":"mail-dkim","alg":"%s","op":"%s","messages":%d,"bytes":%d,"seconds":%.6f}\n),
  $alg, $op, $count, $bytes, $elapsed;
