"""callscope: post-call analytics for contact-centre recordings, in the AWS PCA output format."""

__version__ = "0.1.0"
